package definitions

import (
	"io/fs"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Cache keeps the parsed syntax of definitions files, and the hosts decoded
// from them, between loads, so that loading two commits of the same repo (a
// plan, or the daemon's next head) parses and decodes only the files that
// differ. Entries are keyed by path and the whole content, so a cached file
// is always the parse of exactly those bytes; parsed files and decoded
// hosts are never modified afterwards and are safe to share between the
// Definitions of several commits.
//
// A Cache holds the files of the last two loads and drops the rest. It is
// safe for concurrent use, and loads running at the same time parse each
// shared file once; the zero value is not usable, use NewCache.
type Cache struct {
	mu      sync.Mutex
	gen     int
	entries map[cacheKey]*cacheEntry
	// scans are what scanning each file found (blocks, nesting), so a
	// load scans only the files that changed.
	scans map[cacheKey]*scanEntry
	// hosts are the decoded host blocks of cached files, by block body.
	hosts map[*hclsyntax.Body]*decodedHost
}

// decodedHost is a decoded host block with what decoding it reported.
type decodedHost struct {
	host  *Host
	diags hcl.Diagnostics
	refs  []reference
	used  int
}

type cacheKey struct {
	path, content string
}

type scanEntry struct {
	res  scanResult
	used int
}

type cacheEntry struct {
	done  chan struct{} // closed once file and diags are set
	file  *hcl.File
	diags hcl.Diagnostics
	used  int // generation of the last load that used the entry
}

// NewCache returns an empty parse cache.
func NewCache() *Cache {
	return &Cache{entries: map[cacheKey]*cacheEntry{}, scans: map[cacheKey]*scanEntry{}, hosts: map[*hclsyntax.Body]*decodedHost{}}
}

// Load is Load with parsed files shared through the cache.
func (c *Cache) Load(fsys fs.FS, commit string, limits Limits) (*Definitions, hcl.Diagnostics) {
	c.mu.Lock()
	c.gen++
	gen := c.gen
	c.mu.Unlock()
	defs, diags := load(fsys, commit, limits, c, gen)
	c.mu.Lock()
	for k, e := range c.entries {
		if e.used < c.gen-1 {
			delete(c.entries, k)
		}
	}
	for k, h := range c.hosts {
		if h.used < c.gen-1 {
			delete(c.hosts, k)
		}
	}
	for k, e := range c.scans {
		if e.used < c.gen-1 {
			delete(c.scans, k)
		}
	}
	c.mu.Unlock()
	return defs, diags
}

// scan returns what scanning key's content found: the cached result of
// an earlier load, or a new scan, recorded for generation gen. A nil
// Cache scans every time.
func (c *Cache) scan(key cacheKey, content []byte, gen int) scanResult {
	if c == nil {
		return scan(content, key.path, false)
	}
	c.mu.Lock()
	e, ok := c.scans[key]
	if ok {
		e.used = max(e.used, gen)
	}
	c.mu.Unlock()
	if ok {
		return e.res
	}
	res := scan(content, key.path, false)
	c.mu.Lock()
	c.scans[key] = &scanEntry{res: res, used: gen}
	c.mu.Unlock()
	return res
}

// parse returns the syntax of key's content: the cached parse, one in
// progress in another load (waited for), or a new one, which it records
// for generation gen. Parsing never waits, so loads sharing a cache cannot
// wait on each other in a cycle. A nil Cache parses every time. The
// content must have been scanned without a diagnostic.
func (c *Cache) parse(key cacheKey, content []byte, gen int) (*hcl.File, hcl.Diagnostics) {
	if c == nil {
		return parseConfig(key.path, content)
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		e = &cacheEntry{done: make(chan struct{})}
		c.entries[key] = e
	}
	e.used = max(e.used, gen)
	c.mu.Unlock()
	if ok {
		<-e.done
		return e.file, e.diags
	}
	e.file, e.diags = parseConfig(key.path, content)
	close(e.done)
	return e.file, e.diags
}

// host returns the decoded host block body, if a load decoded it, and
// marks it used by generation gen.
func (c *Cache) host(body *hclsyntax.Body, gen int) (*decodedHost, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.hosts[body]
	if ok {
		d.used = max(d.used, gen)
	}
	return d, ok
}

// putHost records the decoded host block body.
func (c *Cache) putHost(body *hclsyntax.Body, gen int, d decodedHost) {
	d.used = gen
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hosts[body] = &d
}

// parseConfig parses one definitions file that scan accepted, with its
// expressions charging the render budget (limitExpressions).
func parseConfig(path string, content []byte) (*hcl.File, hcl.Diagnostics) {
	f, diags := hclsyntax.ParseConfig(content, path, hcl.InitialPos)
	if f != nil {
		if body, ok := f.Body.(*hclsyntax.Body); ok {
			limitBody(body, content)
		}
	}
	return f, diags
}
