host "a" {
  address   = "a.example"
  transport = "local"
  groups    = ["web"]
  labels    = { rack = "r1" }
  vars      = { port = 80 }
}

host "b" {
  address   = "b.example"
  transport = "local"
  groups    = ["web"]
}

group "web" { vars = { version = "1.2" } }

# Missing on some target hosts: a warning (those hosts fail at run time,
# within the failure budget).
job "j" {
  targets { groups = ["web"] }
  step "ok" { run = "install ${host.vars.version}" }
  step "some" {
    run = "listen ${host.vars.port}" # WARNING: Missing host variable
  }
  step "label" {
    run = "rack ${host.labels["rack"]}" # WARNING: Missing host label
  }
}

# Missing on every target host: an error, the job cannot work anywhere.
job "none" {
  targets { groups = ["web"] }
  step "var" {
    run = "deploy ${host.vars.release}" # ERROR: Missing host variable
  }
  step "label" {
    run = "zone ${host.labels.zone}" # ERROR: Missing host label
  }
  step "drift" {
    run   = "true"
    check = "test -f /etc/${host.vars.marker}" # ERROR: Missing host variable
  }
  rollback {
    step "undo" {
      run = "undo ${host.vars.previous}" # ERROR: Missing host variable
    }
  }
}

monitor "m" {
  targets { hosts = ["a"] }
  check "http" { url = "http://${host.address}:${host.vars.port}/${host.vars.path}" } # ERROR: Missing host variable
}
