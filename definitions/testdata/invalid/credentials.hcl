host "a" {
  address    = "a.example"
  credential = "su"
}

credential "su" {
  user             = "root"
  private_key_file = "keys/root" # ERROR: Relative path
  become           = "su" # ERROR: Invalid value
}

credential "literal" {
  user       = "deploy"
  agent      = true
  passphrase = "hunter2" # WARNING: Literal secret
}

credential "nokey" { # ERROR: Missing authentication
  user = "deploy"
}

credential "nouser" { # ERROR: Missing required argument
  agent = true
}

# No credential attribute and no credential "default": a command check
# needs SSH, an snmp check does not.
host "sw" {
  address = "10.9.0.1"
  snmp    = "v2"
}

snmp "v2" {
  version   = "2c"
  community = env("SNMP_COMMUNITY")
}

monitor "sw-ping" {
  targets { hosts = ["sw"] }
  check "command" { run = "true" } # ERROR: Missing credential
}

monitor "sw-uptime" {
  targets { hosts = ["sw"] }
  check "snmp" { oid = "1.3.6.1.2.1.1.3.0" }
}
