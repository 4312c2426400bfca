credential "default" {
  user  = "r"
  agent = "maybe" # ERROR: Incorrect attribute value type
}

host "a" {
  address = "10.0.0.1"
  port    = "ssh" # ERROR: Incorrect attribute value type
  groups  = "web" # ERROR: Incorrect attribute value type
  labels  = { os = ["debian"] } # ERROR: Incorrect attribute value type
  vars    = "x" # ERROR: Incorrect attribute value type
}

monitor "m" {
  targets { hosts = ["a"] }
  alert_after = 1.5 # ERROR: Value out of range
  check "http" {
    url    = "http://${host.address}/"
    status = 99 # ERROR: Value out of range
  }
}

job "j" {
  targets { hosts = ["a"] }
  step "s" {
    run = ["not", "a", "string"] # ERROR: Incorrect attribute value type
  }
}
