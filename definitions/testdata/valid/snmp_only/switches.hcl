# Switches polled over SNMP only: no SSH credential anywhere.
snmp "switch-v2" {
  version   = "2c"
  community = env("SNMP_COMMUNITY")
}

host "sw-core-1" {
  address = "10.9.0.1"
  snmp    = "switch-v2"
  groups  = ["switches"]
}

host "sw-core-2" {
  address = "10.9.0.2"
  snmp    = "switch-v2"
  groups  = ["switches"]
}

monitor "switch-uplink" {
  targets { groups = ["switches"] }
  interval = "1m"
  check "snmp" {
    oid        = "1.3.6.1.2.1.2.2.1.10.1"
    rate       = true
    warn_above = 800000000
  }
}
