host "a" {
  address   = "a.example.net"
  transport = "local"
}

monitor "m" {
  targets { hosts = ["a"] }
  interval = "30" # ERROR: Invalid duration
  timeout  = "-1s" # ERROR: Invalid duration
  check "command" { run = "true" }
}

window "w" {
  cron     = "0 1 * * SAT"
  duration = "4 hours" # ERROR: Invalid duration
}

job "j" {
  targets { hosts = ["a"] }
  step "s" {
    run     = "true"
    timeout = "1d" # ERROR: Invalid duration
  }
  rollout {
    pause = "1m30s"
    health_gate {
      monitors         = ["m"]
      min_healthy_time = "soon" # ERROR: Invalid duration
    }
  }
}
