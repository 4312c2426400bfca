host "a" {
  address   = "a.example"
  transport = "local"
}

job "types" {
  manual = true
  targets { hosts = ["a"] }
  param "count" {
    type    = number
    default = "many" # ERROR: Incorrect attribute value type
  }
  param "mode" {
    type = map(string) # ERROR: Invalid param type
  }
  param "flag" {
    type  = bool
    regex = "^y" # ERROR: Regex on a bool param
  }
  param "ticket" {
    regex = "^OPS-[0-9+$" # ERROR: Invalid regex
  }
  param "service" {
    default = "db" # ERROR: Invalid default
    allowed = ["app", "worker"]
  }
  param "zone" {
    regex   = "^[a-z]+$"
    allowed = ["tokyo", "Osaka"] # ERROR: Allowed value does not match regex
  }
  param "services" {
    type    = list(string)
    allowed = ["app", "worker"]
    default = ["app", "cron"] # ERROR: Invalid default
  }
  param "password" {
    sensitive = true
    allowed   = ["hunter2"] # ERROR: Allowed values of a sensitive param
  }
  param "token" {
    sensitive = true
    default   = "abc" # WARNING: Literal secret
  }
  param "service" { # ERROR: Duplicate param
    default = "app"
  }
  param "9lives" { default = "x" } # ERROR: Invalid name
  param "empty" {
    allowed = [] # ERROR: Empty allowed list
  }
  step "go" { run = "echo ${param.count} ${param.servce}" } # ERROR: Undeclared param
}

job "on-commit" {
  targets { hosts = ["a"] }
  param "ticket" {} # ERROR: Required param in a job that runs on commits
  param "level" { default = "info" }
  step "a" { run = "echo ${param.ticket} ${param.level}" }
  step "b" {
    file {
      source      = "files/app.conf.tmpl"
      destination = "/etc/app/${param.level}.conf"
    }
  }
}

job "manual-drift" {
  manual      = true
  drift_check = "1h" # ERROR: drift_check on a manual job
  targets { hosts = ["a"] }
  step "a" { run = "true" }
}

job "scheduled" {
  manual   = true
  schedule = "0 3 * * *"
  targets { hosts = ["a"] }
  param "service" { allowed = ["app", "worker"] }
  param "ticket" {}
  param "secret" { sensitive = true } # ERROR: Scheduled run without a required param
  params = { # ERROR: Missing param
    service = "db" # ERROR: Invalid param value
    tciket  = "OPS-1" # ERROR: Undeclared param
    secret  = "x" # ERROR: Sensitive param in params
  }
  step "a" { run = "echo ${param.service} ${param.ticket} ${param.secret}" }
}

job "unscheduled" {
  manual = true
  targets { hosts = ["a"] }
  param "service" { default = "app" }
  params = { service = "worker" } # ERROR: params without schedule
  step "a" { run = "echo ${param.service}" }
}

job "scheduled-required" {
  manual   = true
  schedule = "0 3 * * *" # ERROR: Scheduled run without a required param
  targets { hosts = ["a"] }
  param "ticket" {}
  step "a" { run = "echo ${param.ticket}" }
}

monitor "m" {
  targets { hosts = ["a"] }
  check "command" { run = "echo ${param.x}" } # ERROR: Unknown variable
}
