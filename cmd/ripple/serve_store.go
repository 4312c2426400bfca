package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/gitops"
	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/engine/pgstore"
	"github.com/ripple-ops/ripple/engine/rollout"
	"github.com/ripple-ops/ripple/engine/sqlstore"
	"github.com/ripple-ops/ripple/webhooks"
)

// serveStore is the durable store as serve wires it: the contract of each
// component it is handed to. sqlstore.Store and pgstore.Store both
// implement it, so serve is the same on either.
type serveStore interface {
	rollout.Store
	gitops.Store
	engine.SyncStore
	engine.FactStore
	engine.FiringStore
	engine.DeliveryStore
	engine.MonitorStateStore
	engine.MetricStore
	engine.SilenceStore
	engine.AckStore
	engine.AlertAuditReader
	webhooks.StatusOutbox
	httpapi.Store
	httpapi.FiringLister
	httpapi.MetricNamer
	// RunCompaction applies retention until ctx ends.
	RunCompaction(ctx context.Context, log zerolog.Logger) error
	Close() error
}

var (
	_ serveStore = (*sqlstore.Store)(nil)
	_ serveStore = (*pgstore.Store)(nil)
)

// checkStore validates --store and --store-password-file. Its errors never
// repeat the DSN, which may hold a password.
func (c *serveConfig) checkStore() error {
	if c.store == "" {
		if c.storePasswordFile != "" {
			return errors.New("--store-password-file needs a PostgreSQL --store")
		}
		return nil
	}
	if !strings.HasPrefix(c.store, "postgres://") && !strings.HasPrefix(c.store, "postgresql://") {
		return errors.New("--store: want postgres://USER@HOST/DB (leave it empty for SQLite under --data)")
	}
	if err := pgstore.CheckDSN(c.store); err != nil {
		return fmt.Errorf("--store: %w", err)
	}
	return nil
}

// storeName is the store for logs: the PostgreSQL URL without any
// password, or SQLite's file.
func (c *serveConfig) storeName() string {
	if c.store == "" {
		return "sqlite:" + filepath.Join(c.data, "ripple.db")
	}
	if u, err := url.Parse(c.store); err == nil {
		return u.Redacted()
	}
	return "postgres"
}

// openStore opens the store --store names: PostgreSQL, waiting up to
// --start-timeout for an unreachable server, or SQLite under --data.
func openStore(ctx context.Context, c *serveConfig, fence func(context.Context, pgx.Tx) error, log zerolog.Logger) (serveStore, error) {
	if c.store == "" {
		s, err := sqlstore.Open(ctx, c.data)
		if err != nil {
			return nil, fmt.Errorf("open data directory %s: %w", c.data, err)
		}
		return s, nil
	}
	s, err := pgstore.Open(ctx, c.store, pgstore.Options{
		PasswordFile: c.storePasswordFile, ConnectWait: c.startTimeout, Fence: fence, Logger: log,
	})
	if err != nil {
		return nil, err // it names the store (PostgreSQL at HOST:PORT, its password file)
	}
	return s, nil
}
