credential "default" {
  user  = "ops"
  agent = true
}

host "sw-01" {
  address = "10.0.0.1"
  groups  = ["switch"]
}

host "web-01" {
  address = "10.0.1.1"
  groups  = ["web"]
  parents = ["sw-01", "sw-09"] # ERROR: Unknown host
}

host "web-02" {
  address = "10.0.1.2"
  groups  = ["web"]
  parents = ["web-02"] # ERROR: Dependency cycle
}

host "loop-a" {
  address = "10.0.2.1"
  parents = ["loop-b"] # WARNING: Parent without connectivity monitor
}

host "loop-b" {
  address = "10.0.2.2"
  parents = ["loop-a"] # ERROR: Dependency cycle # WARNING: Parent without connectivity monitor
}

host "db-01" {
  address = "10.0.3.1"
  groups  = ["db"]
  parents = ["web-01"] # WARNING: Parent without connectivity monitor
}

monitor "sw-ping" {
  targets { groups = ["switch"] }
  check "tcp" { port = 22 }
  connectivity = true
}

monitor "host-ssh" {
  targets { groups = ["web"] }
  check "command" { run = "true" }
  connectivity = "yes" # ERROR: Incorrect attribute value type
  depends_on   = ["host-ssh"] # ERROR: Dependency cycle
}

monitor "app" {
  targets { groups = ["web"] }
  check "command" { run = "true" }
  severity = "page" # ERROR: Invalid value
  labels   = { team = "app", "bad-name" = "x" } # ERROR: Invalid label name
  runbook  = "restart-ap" # ERROR: Unknown job
  depends_on = ["host-ssh", "nope"] # ERROR: Unknown monitor
  repeat_interval = "10s" # WARNING: Short repeat interval
}

monitor "cycle-a" {
  targets { groups = ["web"] }
  check "command" { run = "true" }
  depends_on = ["cycle-b"]
}

monitor "cycle-b" {
  targets { groups = ["web"] }
  check "command" { run = "true" }
  depends_on = ["cycle-a"] # ERROR: Dependency cycle
}

monitor "db-check" {
  targets { groups = ["db"] }
  check "command" { run = "true" }
  depends_on = ["sw-ping"] # WARNING: Dependency on no common host
  runbook    = "restart-app" # WARNING: Runbook does not cover every host
  repeat_interval = "-1m" # ERROR: Invalid duration
}

job "restart-app" {
  targets { groups = ["web"] }
  step "restart" { run = "systemctl restart app" }
}

notifier "webhook" "pager" {
  url        = env("HOOK")
  group_wait = "2h" # ERROR: Invalid duration
}

notifier "webhook" "chat" {
  url        = env("CHAT")
  group_wait = "soon" # ERROR: Invalid duration
}
