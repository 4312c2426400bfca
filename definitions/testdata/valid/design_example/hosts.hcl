host "web-01" {
  address    = "10.0.1.11"
  port       = 22
  groups     = ["web", "tokyo"]
  labels     = { os = "debian12", rack = "r1" }
  credential = "deploy"
  vars       = { nginx_workers = 4 }
}

host "web-02" {
  address    = "web-02.example.net"
  groups     = ["web"]
  labels     = { os = "debian12" }
  credential = "deploy"
}

host "core-sw-1" {
  address = "[2001:db8::1]"
  groups  = ["core-switch"]
  snmp    = "switch-v3"
}

host "controller" {
  transport = "local"
}

group "web" { vars = { nginx_version = "1.24.0-1" } }

group "tokyo" {
  description = "Tokyo data centre"
}

credential "deploy" {
  user             = "deploy"
  private_key_file = "/etc/ripple/keys/deploy"
  known_hosts_file = "/etc/ripple/known_hosts"
  become           = "sudo"
}

credential "default" {
  user       = "ripple"
  agent      = true
  passphrase = env("RIPPLE_KEY_PASSPHRASE")
}

snmp "switch-v3" {
  version         = "3"
  port            = 161
  user            = "ripple"
  auth_protocol   = "SHA"
  auth_passphrase = env("SNMP_AUTH")
  priv_protocol   = "AES"
  priv_passphrase = env("SNMP_PRIV")
  timeout         = "3s"
  retries         = 2
}
