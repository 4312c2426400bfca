// Package schedule fires the runs of jobs that have a `schedule`, in the
// job's (or its window's) time zone, catches up once on a firing missed
// while ripple was down, and answers whether a maintenance window is open.
// Cron specs are parsed once, by definitions; this package only reads the
// parsed schedules.
//
// Goroutines: Scheduler.Run owns its one goroutine.
package schedule
