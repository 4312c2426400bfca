host "a" {
  address   = "a.example.net"
  transport = "local"
}

job "zero" {
  targets { hosts = ["a"] }
  step "s" { run = "true" }
  rollout {
    waves        = [0, "100%"] # ERROR: Invalid wave size
    max_failures = -1 # ERROR: Invalid max_failures
  }
}

job "percent" {
  targets { hosts = ["a"] }
  step "s" { run = "true" }
  rollout {
    waves        = ["0%", "150%", "ten", 1.5] # ERROR: Invalid wave size # ERROR: Invalid wave size # ERROR: Invalid wave size # ERROR: Invalid wave size
    max_failures = "101%" # ERROR: Invalid max_failures
  }
}

job "empty" {
  targets { hosts = ["a"] }
  step "s" { run = "true" }
  rollout {
    waves        = [] # ERROR: Invalid wave list
    max_failures = "5" # ERROR: Invalid max_failures
    max_parallel = 0 # ERROR: Value out of range
    on_failure   = "retry" # ERROR: Invalid value
  }
}
