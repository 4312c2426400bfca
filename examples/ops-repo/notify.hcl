notifier "slack" "ops-chat" {
  url = env("OPS_SLACK_WEBHOOK_URL")
}

notifier "webhook" "ops-pager" {
  url = env("OPS_PAGER_URL")
}

notifier "email" "ops-mail" {
  to       = ["ops@example.net"]
  from     = "ripple@example.net"
  smtp     = "smtp.example.net:587"
  username = "ripple"
  password = file("/etc/ripple/smtp-password")
}
