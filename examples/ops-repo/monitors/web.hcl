monitor "web-http" {
  targets { groups = ["web"] }
  interval = "30s"
  check "http" {
    url    = "http://${host.address}/healthz"
    status = 200
    body   = "ok"
  }
  alert_after = 3
  notify      = ["ops-chat", "ops-pager"]
}

monitor "app-port" {
  targets { groups = ["app"] }
  interval = "30s"
  check "tcp" { port = 8080 }
  alert_after = 2
  notify      = ["ops-chat"]
}
