notifier "ops-chat" {
  type = "slack"
  url  = env("OPS_SLACK_WEBHOOK_URL")
}

notifier "ops-pager" {
  type = "webhook"
  url  = env("OPS_PAGER_URL")
}

notifier "ops-mail" {
  type     = "email"
  to       = ["ops@example.net"]
  from     = "ripple@example.net"
  smtp     = "smtp.example.net:587"
  username = "ripple"
  password = file("/etc/ripple/smtp-password")
}
