job "backup-verify" {
  description = "check last night's PostgreSQL dump can be read"
  targets { groups = ["db"] }
  schedule = "0 6 * * *"
  timezone = "Asia/Tokyo"
  step "verify" {
    script     = "../scripts/verify-backup.sh"
    timeout    = "20m"
    idempotent = true # read-only: safe to run again after a crash
  }
  rollout {
    waves        = ["100%"]
    max_failures = 0
    on_failure   = "halt"
  }
}
