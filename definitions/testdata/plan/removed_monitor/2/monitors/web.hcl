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

monitor "db-port" {
  targets { groups = ["db"] }
  check "tcp" { port = 5432 }
}
