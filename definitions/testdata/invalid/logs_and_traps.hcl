host "a" {
  address = "192.0.2.1"
  groups  = ["sw"]
  snmp    = "v2"
}

host "b" {
  address = "b.example" # (a name: traps never match it)
  groups  = ["named"]
  snmp    = "v2"
}

credential "default" {
  user             = "ripple"
  private_key_file = "/etc/ripple/key"
  known_hosts_file = "/etc/ripple/known_hosts"
}

snmp "v2" {
  version   = "2c"
  community = env("COMMUNITY")
}

monitor "log-regex" {
  targets { hosts = ["a"] }
  check "log" {
    path    = "/var/log/app.log"
    pattern = "ERROR(" # ERROR: Invalid regular expression
    exclude = "[z-a]" # ERROR: Invalid regular expression
  }
}

monitor "log-missing" {
  targets { hosts = ["a"] }
  check "log" { # ERROR: Missing required argument
    path = "/var/log/app.log"
  }
}

monitor "log-values" {
  targets { hosts = ["a"] }
  check "log" {
    path       = "var/log/app.log" # ERROR: Relative path
    rotated    = "app.log.1" # ERROR: Relative path
    pattern    = ""  # ERROR: Empty pattern
    warn_count = 5 # ERROR: Thresholds out of order
    crit_count = 2
    max_lines  = -1 # ERROR: Value out of range
    max_bytes  = 100 # ERROR: Value out of range
  }
}

trap "bad-oid" {
  targets { groups = ["sw", "swtich"] } # ERROR: Unknown group
  oid   = "linkDown" # ERROR: Invalid OID
  clear = "1.3.6.1.6.3.1.1.5.4"
  state = "DOWN" # ERROR: Invalid value
}

trap "never-clears" { # ERROR: Trap never clears
  targets { groups = ["sw"] }
  oid = "1.3.6.1.6.3.1.1.5.3"
}

trap "self-clear" {
  targets { groups = ["sw"] }
  oid     = "1.3.6.1.6.3.1.1.5.3"
  clear   = ".1.3.6.1.6.3.1.1.5.3" # ERROR: Trap clears itself
  message = "down: ${trap.varbind["1.3.6.1.2.1.2.2.1.2"]}" # ERROR: Unsupported attribute
}

trap "secret-message" {
  targets { groups = ["sw"] }
  oid         = "1.3.6.1.6.3.1.1.5.1"
  clear_after = "10m"
  message     = "community ${env("COMMUNITY")}" # ERROR: Secret not allowed here
}

trap "named-host" {
  targets { groups = ["named"] } # WARNING: Trap source is not an IP address
  oid         = "1.3.6.1.6.3.1.1.5.1"
  clear_after = "10m"
}

monitor "log-missing" { # ERROR: Duplicate monitor
  targets { hosts = ["a"] }
  check "command" { run = "true" }
}

trap "log-regex" { # ERROR: Duplicate monitor
  targets { hosts = ["a"] }
  oid         = "1.3.6.1.6.3.1.1.5.1"
  clear_after = "10m"
}
