job "db-backup-check" {
  targets { groups = ["db"] }
  step "check" { script = "../scripts/check-backup.sh" }
}

job "security-updates" {
  targets { labels = { os = "debian12" } }
  schedule = "0 2 * * SAT"
  window   = "weekend-night"
  step "upgrade" {
    run     = "apt-get update && apt-get -y upgrade"
    timeout = "30m"
  }
  rollout {
    waves        = ["20%", "100%"]
    max_failures = 0
  }
}
