host "a" {
  address    = "10.0.0.1"
  credential = "deplyo" # ERROR: Unknown credential
  snmp       = "nope" # ERROR: Unknown SNMP profile
  groups     = ["web"]
}

# No credential attribute and no credential "default": fine until a job
# or a command check needs SSH (job "j" below).
host "b" {
  address = "10.0.0.2"
  groups  = ["web"]
}

credential "deploy" {
  user  = "deploy"
  agent = true
}

notifier "webhook" "chat" {
  url = env("HOOK")
}

monitor "m" {
  targets { # WARNING: No matching hosts
    groups  = ["wbe"] # ERROR: Unknown group
    exclude = ["zz"] # ERROR: Unknown host
  }
  notify = ["chat", "chta"] # ERROR: Unknown notifier
  window = "night" # ERROR: Unknown window
  check "command" { run = "true" }
}

job "j" {
  targets { # ERROR: Missing credential
    hosts = ["a", "b", "c"] # ERROR: Unknown host
  }
  window = "night" # ERROR: Unknown window
  step "s" { run = "true" }
  rollout {
    health_gate {
      monitors = ["m", "web-http"] # ERROR: Unknown monitor
    }
  }
}
