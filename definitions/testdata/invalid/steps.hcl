host "a" {
  address   = "a.example"
  transport = "local"
}

job "no-steps" { # ERROR: Missing step
  targets { hosts = ["a"] }
}

job "bad-steps" {
  targets { hosts = ["a"] }
  step "nothing" { # ERROR: Missing step action
    timeout = "1m"
  }
  step "both" { # ERROR: Conflicting step actions
    run    = "true"
    script = "x.sh" # ERROR: Source file not found
  }
  step "idem" {
    run        = "true"
    idempotent = "yes" # ERROR: Incorrect attribute value type
  }
  step "tpl" {
    run = "echo ${hots.name}" # ERROR: Unknown variable
  }
}
