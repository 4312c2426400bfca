host "h" {
  address = "10.0.0.1"
}

monitor "m" {
  targets { hosts = ["h"] }
  check "tcp" { port = 22 }
  notify = ["old-hook", "new-hook", "chat", "mail"]
}

# The label form: notifier "KIND" "NAME".
notifier "webhook" "new-hook" {
  url = env("HOOK_URL")
}

notifier "slack" "chat" {
  url = env("SLACK_URL")
}

notifier "email" "mail" {
  to   = ["ops@example.net"]
  from = "ripple@example.net"
  smtp = "smtp.example.net:587"
}

# The attribute form still loads, deprecated.
notifier "old-hook" { # WARNING: Deprecated notifier syntax
  type = "webhook"
  url  = env("HOOK_URL")
}

# Names are unique across both forms.
notifier "slack" "old-hook" { # ERROR: Duplicate notifier
  url = env("SLACK_URL")
}

notifier "new-hook" { # ERROR: Duplicate notifier
  type = "webhook"
  url  = env("HOOK_URL")
}

notifier "pager" "pd" { # ERROR: Unknown notifier kind
  url = env("PD_URL")
}

# A type attribute beside the label is redundant, or a conflict.
notifier "slack" "agrees" {
  type = "slack" # WARNING: Redundant notifier type
  url  = env("SLACK_URL")
}

notifier "slack" "disagrees" {
  type = "webhook" # ERROR: Conflicting notifier kind
  url  = env("SLACK_URL")
}

# What each kind needs is checked in both forms.
notifier "email" "mail-without-smtp" { # ERROR: Missing required argument # ERROR: Missing required argument
  to = ["ops@example.net"]
}

notifier "webhook" "hook-without-url" { # ERROR: Missing required argument
}

notifier "slack-without-url" { # WARNING: Deprecated notifier syntax # ERROR: Missing required argument
  type = "slack"
}

# The attribute form keeps its checks of type.
notifier "no-kind" { # ERROR: Missing required argument
  url = env("HOOK_URL")
}

notifier "pager" {
  type = "pager" # ERROR: Invalid value
  url  = env("PD_URL")
}

notifier "slack" { # ERROR: Missing name for notifier
  url = env("SLACK_URL")
}

notifier "webhook" "Bad name!" { # ERROR: Invalid name
  url = env("HOOK_URL")
}

notifier { # ERROR: Missing name for notifier
}

notifier "webhook" "hook" "extra" { # ERROR: Extraneous label for notifier
  url = env("HOOK_URL")
}
