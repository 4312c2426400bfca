job "restart-app" {
  description = "Restart an app service"
  manual      = true                 # never runs on a commit: operators, schedules, runbooks
  param "service" {
    type    = string                 # string | number | bool | list(string)
    default = "app"
    allowed = ["app", "worker"]
  }
  param "ticket" {
    type        = string
    regex       = "^OPS-[0-9]+$"
    description = "change ticket"
  }
  param "db_password" {
    type      = string
    sensitive = true                 # never stored, logged or shown; redacted in output
  }
  targets { groups = ["web"] }
  step "restart" { run = "systemctl restart ${param.service}" }
  rollout { waves = [1, "100%"] }
}

job "rotate-logs" {
  manual   = true
  schedule = "30 4 * * *"
  params   = { keep = 7, services = ["app", "worker"] }
  param "keep" { type = number }
  param "services" {
    type    = list(string)
    allowed = ["app", "worker", "cron"]
  }
  param "compress" {
    type    = bool
    default = true
  }
  targets { groups = ["web"] }
  step "config" {
    file {
      source      = "../files/logrotate.tmpl"
      destination = "/etc/logrotate.d/${param.services[0]}"
    }
  }
  step "rotate" { run = "logrotate --keep ${param.keep} ${join(" ", param.services)}" }
}
