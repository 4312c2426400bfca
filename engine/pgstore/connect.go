package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
)

// ErrUnreachable is wrapped by Open when the server cannot be reached
// (refused, timed out, no route), as opposed to reached and refusing.
var ErrUnreachable = errors.New("cannot reach PostgreSQL")

// CheckDSN reports whether dsn can be used as a store: a postgres:// or
// postgresql:// URL or a key=value string, without a password. It never
// repeats the DSN's password in its error.
func CheckDSN(dsn string) error {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return errors.New("not a valid URL") // url's error would quote the DSN
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return fmt.Errorf("scheme %q: want postgres://", u.Scheme)
		}
		if _, ok := u.User.Password(); ok || u.Query().Has("password") {
			return errors.New("holds a password: give it in a password file instead (--store-password-file, or PGPASSFILE)")
		}
		return nil
	}
	for _, f := range strings.Fields(dsn) {
		if k, _, _ := strings.Cut(f, "="); strings.TrimSpace(k) == "password" {
			return errors.New("holds a password: give it in a password file instead (--store-password-file, or PGPASSFILE)")
		}
	}
	if _, err := pgconn.ParseConfig(dsn); err != nil {
		return errors.New("not a postgres:// URL or key=value connection string")
	}
	return nil
}

// poolConfig parses dsn, sets the password from opts.PasswordFile and the
// session settings, and describes the target for messages.
func poolConfig(dsn string, opts Options) (*pgxpool.Config, string, error) {
	if err := CheckDSN(dsn); err != nil {
		return nil, "", fmt.Errorf("store DSN: %w", err)
	}
	if os.Getenv("PGPASSWORD") != "" {
		return nil, "", errors.New("PGPASSWORD is set; ripple takes the PostgreSQL password only from --store-password-file or PGPASSFILE (an environment variable shows in /proc/PID/environ)")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, "", fmt.Errorf("store DSN: %w", err)
	}
	cc := cfg.ConnConfig
	where := fmt.Sprintf("database %s on %s as %s", cc.Database, hostPort(&cc.Config), cc.User)
	if opts.PasswordFile != "" {
		pw, err := engine.ReadSecretFile(opts.PasswordFile)
		if err != nil {
			return nil, "", fmt.Errorf("store password: %w", err)
		}
		cc.Password = pw
	}
	// Every commit waits for its WAL flush, whatever the server's default.
	cc.RuntimeParams["synchronous_commit"] = "on"
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "ripple"
	}
	cfg.MaxConns = opts.MaxReaders
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = defaultMaxReaders
	}
	cfg.MinConns = 0
	return cfg, where, nil
}

// passwordSource says where the password came from, for messages.
func passwordSource(cfg *pgxpool.Config, opts Options) string {
	switch {
	case opts.PasswordFile != "":
		return "the password from " + opts.PasswordFile
	case cfg.ConnConfig.Password != "" && os.Getenv("PGPASSFILE") != "":
		return "the password from PGPASSFILE " + os.Getenv("PGPASSFILE")
	case cfg.ConnConfig.Password != "":
		return "the password from ~/.pgpass"
	default:
		return "no password (give one with --store-password-file or PGPASSFILE)"
	}
}

func hostPort(c *pgconn.Config) string {
	if strings.HasPrefix(c.Host, "/") {
		return fmt.Sprintf("%s/.s.PGSQL.%d", c.Host, c.Port)
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
}

// connect makes the first connection, retrying an unreachable server for
// opts.ConnectWait, and turns a failure into an error that says what to
// fix.
func connect(ctx context.Context, pool *pgxpool.Pool, cfg *pgxpool.Config, opts Options, log zerolog.Logger) error {
	deadline := time.Now().Add(opts.ConnectWait)
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := pool.Ping(ctx)
		if err == nil {
			return nil
		}
		err = connectError(cfg, opts, err)
		if !errors.Is(err, ErrUnreachable) || ctx.Err() != nil || time.Now().Add(wait).After(deadline) {
			if attempt > 1 {
				return fmt.Errorf("%w (%d attempts in %s)", err, attempt, opts.ConnectWait)
			}
			return err
		}
		log.Warn().Err(err).Int("attempt", attempt).Msg("cannot reach PostgreSQL; retrying")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// connectError names what went wrong connecting: the server, the database
// and the user, never the password.
func connectError(cfg *pgxpool.Config, opts Options, err error) error {
	cc := cfg.ConnConfig
	at := hostPort(&cc.Config)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01": // invalid_password
			return fmt.Errorf("PostgreSQL at %s refused user %q with %s: %w", at, cc.User, passwordSource(cfg, opts), pgErr)
		case "28000": // invalid_authorization_specification: no pg_hba.conf entry, no such role
			return fmt.Errorf("PostgreSQL at %s refused user %q for database %s (check the role and pg_hba.conf): %w", at, cc.User, cc.Database, pgErr)
		case "3D000": // invalid_catalog_name
			return fmt.Errorf("PostgreSQL at %s has no database %q (create it: CREATE DATABASE %s OWNER %s): %w", at, cc.Database, cc.Database, cc.User, pgErr)
		}
		return fmt.Errorf("PostgreSQL at %s (database %s, user %s): %w", at, cc.Database, cc.User, pgErr)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		cause := err
		var opErr *net.OpError
		if errors.As(err, &opErr) {
			cause = opErr
		}
		return fmt.Errorf("%w at %s (database %s, user %s): %w", ErrUnreachable, at, cc.Database, cc.User, cause)
	}
	return fmt.Errorf("connect to PostgreSQL at %s (database %s, user %s): %w", at, cc.Database, cc.User, err)
}
