package definitions

import (
	"io/fs"
	"sync"

	"github.com/hashicorp/hcl/v2"
)

// Cache keeps the parsed syntax of definitions files between loads, so that
// loading two commits of the same repo (a plan, or the daemon's next head)
// parses only the files that differ. Entries are keyed by path and the whole
// content, so a cached file is always the parse of exactly those bytes; a
// parsed file is never modified after parsing and is safe to share between
// the Definitions of several commits.
//
// A Cache holds the files of the last two loads and drops the rest. It is
// safe for concurrent use; the zero value is not usable, use NewCache.
type Cache struct {
	mu      sync.Mutex
	gen     int
	entries map[cacheKey]*cacheEntry
}

type cacheKey struct {
	path, content string
}

type cacheEntry struct {
	file  *hcl.File
	diags hcl.Diagnostics
	used  int // generation of the last load that used the entry
}

// NewCache returns an empty parse cache.
func NewCache() *Cache {
	return &Cache{entries: map[cacheKey]*cacheEntry{}}
}

// Load is Load with parsed files shared through the cache.
func (c *Cache) Load(fsys fs.FS, commit string) (*Definitions, hcl.Diagnostics) {
	c.mu.Lock()
	c.gen++
	gen := c.gen
	c.mu.Unlock()
	defs, diags := load(fsys, commit, c, gen)
	c.mu.Lock()
	for k, e := range c.entries {
		if e.used < c.gen-1 {
			delete(c.entries, k)
		}
	}
	c.mu.Unlock()
	return defs, diags
}

// get returns the cached parse of content at path, if any, and marks it
// used by generation gen.
func (c *Cache) get(path string, content []byte, gen int) (*hcl.File, hcl.Diagnostics, bool) {
	if c == nil {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[cacheKey{path, string(content)}]
	if !ok {
		return nil, nil, false
	}
	e.used = max(e.used, gen)
	return e.file, e.diags, true
}

// put records the parse of content at path.
func (c *Cache) put(path string, content []byte, file *hcl.File, diags hcl.Diagnostics, gen int) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[cacheKey{path, string(content)}] = &cacheEntry{file: file, diags: diags, used: gen}
}
