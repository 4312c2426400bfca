// Package engine is the leaf of ripple's control plane: the small
// contracts and shared types its components are built on, and nothing
// else. It imports only definitions.
//
// It holds the records every component and surface shares (Run, HostStep,
// Event, CommitStatus, Notification, DaemonStatus), the store interfaces,
// one per concern (RunStore, JournalStore, EventStore, StatusWriter,
// AppliedStore, DeliveryStore, MonitorStateStore, MetricStore,
// FiringStore) and the store's write health (StoreProbe,
// ErrStoreUnwritable), what touches hosts (Executor, Checker, Endpoint), what
// connects components (ConfigApplier, AlertHolder, NotificationSink,
// DeliveryOutcomes, TriggerSink, StatusNotifier, Progress), the clock, the
// SecretRegistry every component redacts loaded secrets with, and the
// helpers several components use to load a commit's definitions
// (LoadCommit). A component declares the union of the interfaces it uses;
// engine/sqlstore (SQLite) and engine/pgstore (PostgreSQL) implement them
// all and pass one contract suite, engine/storetest.
//
// The components live beside it: engine/source (the ops repo), rollout
// (runs, waves, gates, journal), gitops (the reconcile loop), monitor
// (checks, alerts, metrics), schedule (schedules and windows) and apply
// (`ripple apply`); engine/httpapi and engine/webui are the surfaces over
// them. A test in this package keeps the import direction of DESIGN.md.
// The package starts no goroutines.
package engine
