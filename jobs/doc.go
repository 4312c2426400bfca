// Package jobs is what touches hosts: the SSH and local transports, the step
// kinds (run, script, file) and, in check_*.go, the monitor checks.
//
// # Transports
//
// SSH (ssh.go, pool.go, hostkeys.go) runs commands with golang.org/x/crypto/ssh.
// Host keys are always verified against the credential's known_hosts file;
// an unknown host (ErrHostUnknown) and a changed key (ErrHostKeyChanged) are
// distinct errors and neither sends a command. Trusting a host is only ever
// done by the operator command `ripple hosts trust`. There is no agent
// forwarding. One connection per host (address, port, user, key) is shared
// by every step and check; at most SSHOptions.MaxSessionsPerConn sessions run
// on it at once (OpenSSH's MaxSessions is 10) and at most
// SSHOptions.MaxHandshakes handshakes run fleet-wide at once (OpenSSH's
// MaxStartups). Every phase has a deadline: TCP dial, SSH handshake
// (a separate conn deadline, since ClientConfig.Timeout only covers the
// dial), each command, and keepalives.
//
// A command with a timeout runs remotely as `timeout -k 5 T sh -c CMD`, so
// the remote process group dies even if the connection is lost. When the
// timeout expires locally, the session is sent SIGTERM (which timeout(1)
// forwards to the whole group), then SIGKILL and closed after a grace
// period. Remote hosts need a POSIX sh, coreutils timeout, sha256sum, mktemp
// and, with become = "sudo", `sudo -n` rights for those.
//
// SSHOptions.Metrics (metrics.go) counts dials by outcome (the reason of a
// failure follows the TransportError kinds) and the open pooled connections.
//
// Local (local.go) runs the same commands with os/exec as `sh -c CMD` in its
// own process group, killed as a group on timeout. Transport dispatches by
// Host.Transport ("local" or ssh).
//
// # Steps
//
// run sends HostStep.Command to the remote shell as is. script uploads the
// script through stdin into a private mktemp file, runs it and removes it.
// file compares the sha256 of the rendered content with the destination and
// writes only when it differs: into a temp file in the destination's
// directory, chmod/chown, then rename over the destination. The previous
// content is kept as a hard link (or copy) named
// `<dir>/.<name>.ripple-bak-<unix-nanos>~` beside the destination: same
// file system, so restoring is an atomic rename too; the leading dot and
// trailing tilde keep it out of the globs and include rules of run-parts,
// sudoers.d, logrotate.d, nginx and systemd drop-in directories. The five
// newest backups of a destination are kept.
//
// Output is capped at SSHOptions.OutputLimit bytes per stream (64 KiB by
// default, marked when cut), and every secret of the step and the key
// passphrase is replaced by "[redacted]" in stdout, stderr and errors
// (redact.go).
//
// # Goroutines
//
// The SSH pool runs one keepalive goroutine per open connection; it ends
// when the connection dies, idles out or SSH.Close is called, and Close waits
// for all of them. A dial runs in a goroutine of its own
// (golang.org/x/sync/singleflight, one per host at a time) that the caller
// who started it waits for; other callers for that host share its result.
// Exec runs one goroutine per command to wait for the
// session; Exec does not return before it ends.
package jobs
