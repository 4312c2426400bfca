// Package definitions owns ripple's HCL language: the schema of the ops
// repo, loading one commit's files from an fs.FS, validation with
// diagnostics that name file:line:col, target selection, and per-host
// evaluation of commands, checks and templates.
//
// The package is pure. Load reads only the fs.FS it is given, never the
// network, the process environment or the daemon's disk, and logs nothing.
// env() and file() are daemon-side functions: without a SecretSource
// (validate, plan) they evaluate to unknown values, so a pull request can
// never read a secret.
//
// Every load and every rendering is bounded by Limits (files, blocks,
// hosts, tokens, bytes, targets, and the work of evaluating expressions),
// each checked before the work it bounds, because any commit may be a
// hostile pull request head: over a limit, a load stops with one error
// naming it. Follow-on diagnostics are held back (followon.go).
//
// Goroutines: Load parses files and decodes host blocks on up to
// GOMAXPROCS goroutines of its own and waits for all of them before it
// returns; nothing else here starts one. A *Definitions returned by Load is read-only and safe to share
// between goroutines.
//
// The language itself is documented in docs/hcl.md.
package definitions
