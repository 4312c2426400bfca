// Package engine is the leaf of ripple's control plane: the small
// contracts and shared types its components are built on, and nothing
// else. It imports only definitions.
//
// It holds the records every component and surface shares (Run, HostStep,
// Event, CommitStatus, Notification, DaemonStatus, and what the stores
// keep of sync state and facts: HostSync, FactsRecord), the store
// interfaces, one per concern (RunStore, JournalStore, EventStore,
// StatusWriter, AppliedStore, DeliveryStore, MonitorStateStore,
// MetricStore, FiringStore, SyncStore, FactStore, SilenceStore, AckStore) and the store's write health (StoreProbe,
// ErrStoreUnwritable), what touches hosts (Executor, Checker, Endpoint), what
// connects components (ConfigApplier, AlertHolder, NotificationSink,
// DeliveryOutcomes, TriggerSink, StatusNotifier, Progress), the clock, the
// SecretRegistry every component redacts loaded secrets with, and the
// helpers several components use to load a commit's definitions
// (LoadCommit). A component declares the union of the interfaces it uses;
// engine/sqlstore (SQLite) and engine/pgstore (PostgreSQL) implement them
// all and pass one contract suite, engine/storetest.
//
// Each file is one concern (runs, the journal, events, the executor and
// checkers, the store, commits, GitHub, the daemon, alerts, traps, facts,
// sync records, secrets, text). Domain logic is not here: the components
// live beside it: engine/source (the ops repo), rollout (runs, waves,
// gates, journal), gitops (the reconcile loop), monitor (checks, alerts,
// notifications owed, metrics), schedule (schedules and windows), apply
// (`ripple apply`), convergence (sync state derived from the sync
// records) and facts (facts as text and templates, patch compliance);
// engine/httpapi and engine/webui are the surfaces over them. A test in
// this package keeps the import direction of DESIGN.md. The package starts
// no goroutines.
package engine
