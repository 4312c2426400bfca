window "weekend-night" {
  cron     = "0 1 * * SAT"
  duration = "4h"
  timezone = "Asia/Tokyo"
}

notifier "webhook" "ops-chat" {
  url = env("OPS_WEBHOOK_URL")
}

notifier "slack" "ops-slack" {
  url = env("OPS_SLACK_WEBHOOK_URL")
}

notifier "email" "ops-mail" {
  to       = ["ops@example.net"]
  from     = "ripple@example.net"
  smtp     = "smtp.example.net:587"
  username = "ripple"
  password = file("/etc/ripple/smtp-password")
}

monitor "web-http" {
  targets { groups = ["web"] }
  interval = "30s"
  check "http" {
    url      = "http://${host.address}:8080/healthz"
    status   = 200
    body     = "ok|healthy"
    insecure = false
    timeout  = "5s"
  }
  alert_after = 3
  notify      = ["ops-chat", "ops-slack", "ops-mail"]
}

monitor "disk-root" {
  targets { labels = { os = "debian12" } }
  interval = "5m"
  timeout  = "20s"
  window   = "weekend-night"
  limits   = { used = 100 }
  check "command" { run = "/usr/lib/nagios/plugins/check_disk -w 20% -c 10% -p /" }
}

monitor "ssh-port" {
  targets { hosts = ["web-01", "web-02"] }
  check "tcp" {
    port = 22
  }
}

monitor "core-uplink" {
  targets { groups = ["core-switch"] }
  interval = "1m"
  check "snmp" {
    oid        = "1.3.6.1.2.1.31.1.1.1.6.1"
    rate       = true
    warn_above = 800000000
    crit_above = 950000000
  }
}

monitor "core-uptime" {
  targets { groups = ["core-switch"] }
  check "snmp" {
    oids       = ["1.3.6.1.2.1.1.3.0", ".1.3.6.1.2.1.1.5.0"]
    warn_below = 10
    crit_below = 1
  }
}
