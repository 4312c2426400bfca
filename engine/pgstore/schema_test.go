package pgstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine/sqlstore"
)

// TestSchemaMatchesSQLite: after migrating, both stores have the same
// tables with the same columns (only the types differ), so one schema
// change is one migration on each and data can move between them.
func TestSchemaMatchesSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lite, err := sqlstore.Open(ctx, dir) // migrates
	if err != nil {
		t.Fatal(err)
	}
	lite.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, "ripple.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string][]string{}
	rows, err := db.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		want[table] = append(want[table], col)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	s := openTest(t)
	got := map[string][]string{}
	prows, err := s.pool.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'schema_version'`)
	if err != nil {
		t.Fatal(err)
	}
	for prows.Next() {
		var table, col string
		if err := prows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		got[table] = append(got[table], col)
	}
	if err := prows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string][]string{want, got} {
		for _, cols := range m {
			sort.Strings(cols)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tables and columns (-sqlite +postgres):\n%s", diff)
	}
	if len(got) < 10 {
		t.Errorf("only %d tables: %s", len(got), strings.Join(keys(got), ", "))
	}
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
