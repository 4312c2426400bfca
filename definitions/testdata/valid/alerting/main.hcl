credential "default" {
  user             = "ops"
  private_key_file = "/etc/ripple/keys/ops"
}

snmp "switch-v2c" {
  version   = "2c"
  community = env("SNMP_COMMUNITY")
}

host "sw-core-1" {
  address = "192.0.2.1"
  groups  = ["switch"]
  snmp    = "switch-v2c"
}

host "app-01" {
  address = "192.0.2.11"
  groups  = ["app"]
  parents = ["sw-core-1"]
}

host "app-02" {
  address = "192.0.2.12"
  groups  = ["app"]
  parents = ["sw-core-1"]
}

notifier "webhook" "pager" {
  url        = env("PAGER_URL")
  group_wait = "1m"
}

notifier "slack" "chat" {
  url        = env("SLACK_URL")
  group_wait = "0s"
}

monitor "sw-uptime" {
  targets { groups = ["switch"] }
  check "snmp" { oid = "1.3.6.1.2.1.1.3.0" }
  connectivity = true
  severity     = "critical"
  labels       = { team = "network" }
  notify       = ["pager"]
}

monitor "host-ssh" {
  targets { groups = ["app"] }
  check "command" { run = "true" }
  connectivity = true
  notify       = ["pager"]
}

monitor "app-health" {
  targets { groups = ["app"] }
  check "command" { run = "/usr/lib/nagios/plugins/check_procs -C app -c 1:" }
  severity        = "warning"
  labels          = { team = "app", service = "app" }
  runbook         = "restart-app"
  depends_on      = ["host-ssh"]
  repeat_interval = "30m"
  notify          = ["pager", "chat"]
}

job "restart-app" {
  description = "Restart the app service"
  targets { groups = ["app"] }
  step "restart" { run = "systemctl restart app" }
}
