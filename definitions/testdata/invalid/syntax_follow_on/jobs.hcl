# Checks across blocks (names, targets, host vars, credentials) wait for
# the syntax errors to be fixed: none is reported here.
job "deploy" {
  targets { hosts = ["web-01"] }
  step "s" { run = "echo ${host.vars.version}" }
}

monitor "m" {
  targets { groups = ["web"] }
  check "tcp" { port = 22 }
}

job "window" {
  targets { groups = ["web"] }
  window = "nights"
  step "s" {
    run   = "true"
    bogus = 1 # ERROR: Unsupported argument
  }
}
