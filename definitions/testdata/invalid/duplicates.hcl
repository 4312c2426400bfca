host "a" {
  address   = "10.0.0.1"
  transport = "local"
}

host "a" { # ERROR: Duplicate host
  address = "10.0.0.2"
}

job "j" {
  targets { hosts = ["a"] }
  step "s" { run = "true" }
  step "s" { run = "false" } # ERROR: Duplicate step
}
