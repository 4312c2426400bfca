// Package pgtest starts private PostgreSQL servers for tests: initdb in a
// temporary directory, then postgres listening on 127.0.0.1 only, on a free
// port, with its unix socket in that directory, run as an unprivileged
// user (the postgres system user when the tests run as root, as CI does;
// the current user otherwise). A test package starts one server for its
// run (Shared, stopped from TestMain) and gives each test a fresh
// database; a test that needs its own server (durability: fsync on, a
// crash of the server) starts one with New.
//
// Without the PostgreSQL binaries (initdb, pg_ctl, postgres on PATH or in
// /usr/lib/postgresql/*/bin) the tests that need a server skip, saying how
// to install them; with CI=true they fail instead, so that CI cannot pass
// without running them.
//
// Each server is one child process (postgres); it gets SIGINT (a fast
// shutdown) if the test process dies first.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotInstalled is wrapped when the PostgreSQL binaries are not found.
var ErrNotInstalled = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or in /usr/lib/postgresql/*/bin; install them to run the PostgreSQL tests: apt-get install postgresql")

// User is the superuser of every test server; its password is in
// Cluster.PasswordFile.
const User = "postgres"

// Options say how to run a server.
type Options struct {
	// Fsync turns fsync (and full_page_writes) on: commits survive a crash
	// of the machine, as in production. Off, the server is faster and
	// still survives a crash of its own processes.
	Fsync bool
}

// Cluster is one running test server.
type Cluster struct {
	dir      string // owned by the server's user, removed by Stop
	bin      string
	port     int
	cred     *syscall.Credential // nil: run as the current user
	opts     Options
	password string
	proc     *exec.Cmd
	exited   chan struct{}
	dbs      atomic.Int64
}

// Start initializes and starts a server in a new temporary directory. The
// error wraps ErrNotInstalled when the binaries are missing.
func Start(opts Options) (_ *Cluster, err error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, opts: opts}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	if c.dir, err = os.MkdirTemp("", "ripple-pg-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(c.dir)
		}
	}()
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return nil, err
		}
	}
	c.password = randomHex(16)
	if err := c.writeFile("password", c.password+"\n"); err != nil {
		return nil, err
	}
	args := []string{"-D", c.data(), "-U", User, "--pwfile=" + c.PasswordFile(),
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"}
	if !opts.Fsync {
		args = append(args, "--no-sync")
	}
	if out, err := c.command("initdb", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		if c.port, err = freePort(); err != nil {
			return nil, err
		}
		if err = c.start(); err == nil {
			return c, nil
		}
		if attempt == 2 || !strings.Contains(err.Error(), "could not bind") {
			return nil, err
		}
	}
}

// New starts a server for t alone and stops it at t's cleanup; t skips
// or fails as Shared's tests do when the binaries are missing.
func New(t testing.TB, opts Options) *Cluster {
	t.Helper()
	c, err := Start(opts)
	need(t, err)
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	})
	return c
}

// need skips t when err says the binaries are missing (fails under
// CI=true), and fails it on any other error.
func need(t testing.TB, err error) {
	t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true":
		t.Skip(err)
	default:
		t.Fatal(err)
	}
}

// Port is the server's TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// PasswordFile is a file holding User's password on its first line.
func (c *Cluster) PasswordFile() string { return filepath.Join(c.dir, "password") }

// DSN is the URL of database db as User, without the password.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", User, c.port, db)
}

// Connect opens a connection to db as User.
func (c *Cluster) Connect(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(c.DSN(db))
	if err != nil {
		return nil, err
	}
	cfg.Password = c.password
	return pgx.ConnectConfig(ctx, cfg)
}

// CreateDatabase creates a new, empty database and returns its name.
func (c *Cluster) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("ripple_test_%d", c.dbs.Add(1))
	conn, err := c.Connect(ctx, "postgres")
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return name, nil
}

// Database creates a new database for t and returns its DSN.
func (c *Cluster) Database(t testing.TB) string {
	t.Helper()
	name, err := c.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c.DSN(name)
}

// Crash stops the server the way a crash would (pg_ctl stop -m immediate:
// no checkpoint, the next start recovers from the WAL).
func (c *Cluster) Crash() error { return c.stop("immediate") }

// Restart starts the server again after Crash, on the same port.
func (c *Cluster) Restart() error { return c.start() }

// Stop shuts the server down (pg_ctl stop -m fast) and removes its
// directory. It is safe to call twice.
func (c *Cluster) Stop() error {
	if c.dir == "" {
		return nil
	}
	err := c.stop("fast")
	if rerr := os.RemoveAll(c.dir); rerr != nil && err == nil {
		err = rerr
	}
	c.dir = ""
	return err
}

// Log is the tail of the server's log, for test failures.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "log"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// start runs postgres in the foreground as a child and waits until it
// accepts connections.
func (c *Cluster) start() error {
	fsync := "off"
	if c.opts.Fsync {
		fsync = "on"
	}
	logf, err := os.OpenFile(filepath.Join(c.dir, "log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	if c.cred != nil {
		if err := logf.Chown(int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return err
		}
	}
	cmd := c.command("postgres", "-D", c.data(),
		"-c", "listen_addresses=127.0.0.1", "-c", "port="+strconv.Itoa(c.port),
		"-c", "unix_socket_directories="+c.dir, "-c", "max_connections=200",
		"-c", "fsync="+fsync, "-c", "full_page_writes="+fsync, "-c", "synchronous_commit=on")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.proc, c.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(c.exited) }() //nolint:errcheck // the log says why it ended
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		conn, err := c.Connect(ctx, "postgres")
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited at start-up:\n%s", c.Log())
		case <-ctx.Done():
			c.stop("immediate") //nolint:errcheck // reporting the start-up error
			return fmt.Errorf("postgres not ready after 60s: %w\n%s", err, c.Log())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop runs pg_ctl stop -m mode and waits for the server to exit.
func (c *Cluster) stop(mode string) error {
	if c.proc == nil {
		return nil
	}
	out, err := c.command("pg_ctl", "-D", c.data(), "-m", mode, "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil {
		c.proc.Process.Kill() //nolint:errcheck // reporting pg_ctl's error
		err = fmt.Errorf("pg_ctl stop -m %s: %w\n%s", mode, err, out)
	}
	<-c.exited
	c.proc = nil
	return err
}

// command runs one of the server binaries as the server's user.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = []string{"HOME=" + c.dir, "LC_ALL=C", "PATH=" + c.bin + ":/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	return cmd
}

// writeFile writes a file into the directory, owned by the server's user.
func (c *Cluster) writeFile(name, content string) error {
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return err
	}
	if c.cred != nil {
		return os.Chown(path, int(c.cred.Uid), int(c.cred.Gid))
	}
	return nil
}

// findBinaries returns the directory holding initdb, pg_ctl and postgres:
// the first on PATH that has all three, else the newest
// /usr/lib/postgresql/VERSION/bin.
func findBinaries() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir != "" && has(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if has(dir) {
			return dir, nil
		}
	}
	return "", ErrNotInstalled
}

// postgresUser is the credential of the postgres system user, which runs
// the server when the tests run as root (PostgreSQL refuses to run as
// root).
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, the test server runs as the postgres system user, which is missing (apt-get install postgresql creates it): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// Shared is one server for a test package's run: started on first use,
// stopped by Stop, which TestMain calls after m.Run. The zero value is
// ready (fsync off).
type Shared struct {
	Options Options

	once sync.Once
	c    *Cluster
	err  error
}

// Cluster returns the server, starting it on first use; t skips or fails
// when it cannot be had.
func (s *Shared) Cluster(t testing.TB) *Cluster {
	t.Helper()
	s.once.Do(func() { s.c, s.err = Start(s.Options) })
	need(t, s.err)
	return s.c
}

// Database creates a fresh database for t on the shared server and
// returns its DSN (without the password: see Cluster.PasswordFile).
func (s *Shared) Database(t testing.TB) string {
	t.Helper()
	return s.Cluster(t).Database(t)
}

// Stop stops the server if it was started.
func (s *Shared) Stop() error {
	if s.c == nil {
		return nil
	}
	return s.c.Stop()
}
