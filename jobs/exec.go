package jobs

// ExecResult is the raw outcome of one remote (or local) command. Stdout and
// Stderr are capped and redacted by the caller's options.
type ExecResult struct {
	ExitCode int // -1 when the command produced no exit status
	Stdout   []byte
	Stderr   []byte
	TimedOut bool
}
