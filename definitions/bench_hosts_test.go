//go:build unix

package definitions

import (
	"testing"
	"testing/fstest"
	"time"

	"github.com/ripple-ops/ripple/definitions/fleetgen"
)

// BenchmarkInventory2kCSV loads, validates and plans two commits of a
// repo whose 2,000 switches come from a CSV (the second adds 3 rows), as
// `ripple plan` does; BenchmarkInventory2kBlocks does the same with the
// same hosts written as host blocks. Goal (issue 15): CSV within 1.5x.
func BenchmarkInventory2kCSV(b *testing.B) {
	benchInventory(b, bytesFS(fleetgen.CSVRepo(2000)), bytesFS(fleetgen.CSVRepo(2003)))
}

func BenchmarkInventory2kBlocks(b *testing.B) {
	benchInventory(b, bytesFS(fleetgen.BlocksRepo(2000)), bytesFS(fleetgen.BlocksRepo(2003)))
}

// BenchmarkInventory10kCSV and BenchmarkInventory10kBlocks are the same at
// the design size: 10,000 rows.
func BenchmarkInventory10kCSV(b *testing.B) {
	benchInventory(b, bytesFS(fleetgen.CSVRepo(10000)), bytesFS(fleetgen.CSVRepo(10003)))
}

func BenchmarkInventory10kBlocks(b *testing.B) {
	benchInventory(b, bytesFS(fleetgen.BlocksRepo(10000)), bytesFS(fleetgen.BlocksRepo(10003)))
}

func benchInventory(b *testing.B, old, new fstest.MapFS) {
	var wall, cpu time.Duration
	n := 0
	for b.Loop() {
		start, startCPU := time.Now(), processCPU()
		cache := NewCache()
		od, diags := cache.Load(old, "v1", Limits{})
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		nd, diags := cache.Load(new, "v2", Limits{})
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		p := Plan(Diff(od, nd), nd)
		wall += time.Since(start)
		cpu += processCPU() - startCPU
		n++
		if len(p.Jobs) != 1 || len(nd.Hosts) != len(od.Hosts)+3 {
			b.Fatalf("plan of %d jobs, %d hosts", len(p.Jobs), len(nd.Hosts))
		}
	}
	b.ReportMetric(float64(wall.Microseconds())/1000/float64(n), "ms/plan")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n), "cpu-ms/op")
}
