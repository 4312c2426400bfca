host "sw" {
  address = "sw.example"
  snmp    = "v2"
  transport = "local"
}

snmp "v2" {
  version   = "2c"
  community = "public" # WARNING: Literal secret
}

snmp "v3" {
  version         = "3"
  user            = "ripple"
  auth_protocol   = "SHA"
  auth_passphrase = "authpass" # WARNING: Literal secret
  priv_protocol   = "AES"
  priv_passphrase = "privpass" # WARNING: Literal secret
}

snmp "v3-bad" {
  version       = "3"
  user          = "ripple"
  auth_protocol = "SHA1" # ERROR: Invalid value
}

snmp "v2-none" { # ERROR: Missing community
  version = "2c"
}

notifier "webhook" "hook" {
  url = "https://hooks.example/T000/secret" # WARNING: Literal secret
}

notifier "email" "mail" {
  to       = ["ops@example.net"]
  from     = "ripple@example.net"
  smtp     = "smtp.example.net:587"
  password = "hunter2" # WARNING: Literal secret
}

notifier "slack" "slack" { # ERROR: Missing required argument
}

host "h" {
  address   = env("ADDR") # ERROR: Secret not allowed here
  transport = "local"
}
