host "a" {
  address   = "a.example"
  transport = "local"
}

monitor "ping" {
  targets { hosts = ["a"] }
  check "ping" { # ERROR: Unknown check kind
  }
}

monitor "no-check" { # ERROR: Missing check block
  targets { hosts = ["a"] }
}

monitor "two-checks" {
  targets { hosts = ["a"] }
  check "command" { run = "true" }
  check "command" { run = "false" } # ERROR: Duplicate check block
}

monitor "no-targets" { # ERROR: Missing targets block
  check "command" { run = "true" }
}

monitor "http" {
  targets { hosts = ["a"] }
  check "http" {
    url  = "http://${host.adress}/" # ERROR: Unsupported attribute
    body = "([" # ERROR: Invalid regular expression
  }
}

monitor "tcp" {
  targets { hosts = ["a"] }
  check "tcp" { # ERROR: Missing required argument
    address = "${host.address}"
  }
}

monitor "snmp" {
  targets { hosts = ["a"] }
  check "snmp" { # ERROR: Missing SNMP profile
    oids = ["1.3.6.1.2.1.1.3.0", "sysUpTime"] # ERROR: Invalid OID
  }
}

monitor "snmp-thresholds" {
  targets { hosts = ["a"] }
  check "snmp" { # ERROR: Missing SNMP profile
    oid        = "1.3.6.1.2.1.1.3.0"
    warn_above = 10 # ERROR: Thresholds out of order
    crit_above = 5
  }
}

monitor "slow" {
  targets { hosts = ["a"] }
  interval = "10s"
  timeout  = "1m" # ERROR: Timeout longer than interval
  check "command" { run = "true" }
}

monitor "fn" {
  targets { hosts = ["a"] }
  check "command" { run = nosuch(host.name) } # ERROR: Call to unknown function
}
