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

monitor "m" {
  targets { hosts = ["a"] }
  check "http" { url = "http://${host.address}:${host.vars.port}/${host.vars.path}" } # WARNING: Missing host variable
}
