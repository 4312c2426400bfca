host "web-01" {
  address   = "10.0.0.1"
  transport = "local"
  groups    = ["web"]
}

monitor "m" {
  targets { groups = ["web"] }
  check "command" { run = "true" }
}
