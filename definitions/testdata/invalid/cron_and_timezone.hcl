host "a" {
  address   = "a.example.net"
  transport = "local"
}

window "bad-cron" {
  cron     = "0 1 * SAT" # ERROR: Invalid cron spec
  duration = "4h"
}

window "bad-field" {
  cron     = "61 1 * * *" # ERROR: Invalid cron spec
  duration = "4h"
}

window "seconds" {
  cron     = "0 0 1 * * SAT" # ERROR: Invalid cron spec
  duration = "4h"
}

window "bad-tz" {
  cron     = "0 1 * * SAT"
  duration = "4h"
  timezone = "Mars/Olympus" # ERROR: Invalid timezone
}

job "j" {
  targets { hosts = ["a"] }
  schedule = "@daily" # ERROR: Invalid cron spec
  timezone = "Local" # ERROR: Invalid timezone
  step "s" { run = "true" }
}
