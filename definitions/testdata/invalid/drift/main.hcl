host "a" {
  address   = "a.example"
  transport = "local"
}

job "heal-without-interval" {
  targets { hosts = ["a"] }
  self_heal = true # ERROR: self_heal without drift_check
  step "x" { run = "true" }
}

job "too-often" {
  targets { hosts = ["a"] }
  drift_check = "10s" # ERROR: Invalid duration
  step "x" { run = "true" }
}

job "file-check" {
  targets { hosts = ["a"] }
  drift_check = "1h"
  step "conf" {
    check = "test -f /etc/x" # ERROR: check on a file step
    file {
      source      = "conf.tmpl"
      destination = "/etc/x"
    }
  }
  step "bad" {
    run   = "true"
    check = "test -f ${hots.name}" # ERROR: Unknown variable
  }
}
