host "web-01" { # ERROR: Duplicate host
  address   = "10.0.0.9"
  transport = "local"
}

monitor "m" { # ERROR: Duplicate monitor
  targets { groups = ["web"] }
  check "command" { run = "false" }
}

job "uses-both" {
  targets { groups = ["web"] }
  step "s" { run = "true" }
  rollout {
    health_gate { monitors = ["m"] }
  }
}
