host "a" {
  address   = "a.example.net"
  transport = "local"
}

monitor "m" {
  targets { hosts = ["a"] }
  check "command" { run = "true" }
}

job "equal" {
  targets { hosts = ["a"] }
  step "s" { run = "true" }
  rollout {
    health_gate {
      monitors         = ["m"]
      min_healthy_time = "5m" # ERROR: Health gate can never pass
      healthy_deadline = "5m"
    }
  }
}

job "default-deadline" {
  targets { hosts = ["a"] }
  step "s" { run = "true" }
  rollout {
    health_gate {
      monitors         = ["m"]
      min_healthy_time = "10m" # ERROR: Health gate can never pass
    }
  }
}

job "no-monitors" {
  targets { hosts = ["a"] }
  step "s" { run = "true" }
  rollout {
    health_gate { # ERROR: Missing required argument
    }
  }
}
