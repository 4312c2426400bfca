group "web" {
  description = "public web tier"
  vars        = { nginx_version = "1.24.0-1", nginx_workers = 4 }
}

group "tokyo" { vars = { dc = "tyo1" } }
group "osaka" { vars = { dc = "osa1" } }

window "weekend-night" {
  cron     = "0 1 * * SAT"
  duration = "4h"
  timezone = "Asia/Tokyo"
}

notifier "webhook" "ops-chat" {
  url = env("OPS_WEBHOOK_URL")
}
