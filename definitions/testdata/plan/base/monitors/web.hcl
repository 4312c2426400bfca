monitor "web-http" {
  targets { groups = ["web"] }
  interval = "30s"
  check "http" {
    url    = "http://${host.address}:8080/healthz"
    status = 200
  }
  alert_after = 3
  notify      = ["ops-chat"]
}

monitor "disk-root" {
  targets { labels = { os = "debian12" } }
  interval = "5m"
  check "command" { run = "/usr/lib/nagios/plugins/check_disk -w 20% -c 10% -p /" }
}

monitor "db-port" {
  targets { groups = ["db"] }
  check "tcp" { port = 5432 }
}
