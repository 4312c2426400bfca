package definitions

import (
	"path"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// blockDataFiles lists the repo paths a block reads with repofile() with a
// literal path, sorted. dynamic is set when a call's path is computed, so
// the files it reads are not known from the source.
func blockDataFiles(b *hclsyntax.Block) (files []string, dynamic bool) {
	if b == nil {
		return nil, false
	}
	dir := path.Dir(b.Range().Filename)
	hclsyntax.VisitAll(b.Body, func(n hclsyntax.Node) hcl.Diagnostics {
		fc, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok || fc.Name != "repofile" {
			return nil
		}
		if len(fc.Args) == 1 {
			if s, ok := literalString(fc.Args[0]); ok {
				if p, err := repoPath(dir, s); err == nil {
					if !slices.Contains(files, p) {
						files = append(files, p)
					}
					return nil
				}
			}
		}
		dynamic = true
		return nil
	})
	slices.Sort(files)
	return files, dynamic
}

// dataReasons says which data files a job or monitor block reads changed
// between the commits: "data file jobs/versions.json changed". A block
// whose repofile() paths are computed changes when any file read with
// repofile() at either commit changed.
func (dt *differ) dataReasons(kind, name string) []string {
	files, dynamic := blockDataFiles(dt.newIdx.block(kind, name))
	if dynamic {
		for _, p := range slices.Concat(dt.old.DataFiles, dt.new.DataFiles) {
			if !slices.Contains(files, p) {
				files = append(files, p)
			}
		}
	}
	var out []string
	for _, p := range files {
		if !dt.sameFile(p) {
			out = append(out, "data file "+p+" changed")
		}
	}
	return out
}
