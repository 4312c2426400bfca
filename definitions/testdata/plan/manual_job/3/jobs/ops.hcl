job "restart-app" {
  description = "Restart an app service"
  manual      = true
  param "service" {
    type    = string
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
    sensitive = true
  }
  targets { groups = ["web"] }
  step "restart" { run = "systemctl restart ${param.service} && systemctl status ${param.service}" }
  rollout { waves = [1, "100%"] }
}

job "log-level" {
  targets { groups = ["web"] }
  param "level" { default = "info" }
  step "set" { run = "echo ${param.level} > /etc/app/level" }
}
