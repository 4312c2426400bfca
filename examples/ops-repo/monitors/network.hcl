monitor "core-uplink-in" {
  targets { groups = ["core-switch"] }
  interval = "1m"
  check "snmp" {
    oid        = "1.3.6.1.2.1.31.1.1.1.6.1" # ifHCInOctets.1
    rate       = true                       # bytes/s, wrap- and reboot-safe
    warn_above = 800000000
    crit_above = 950000000
  }
  limits      = { rate = 1250000000 } # 10 Gbit/s in bytes/s
  alert_after = 3
  notify      = ["ops-chat"]
}

monitor "core-uptime" {
  targets { groups = ["core-switch"] }
  interval = "5m"
  check "snmp" {
    oid        = "1.3.6.1.2.1.1.3.0" # sysUpTime, hundredths of a second
    crit_below = 30000               # rebooted in the last 5 minutes
  }
  notify = ["ops-pager"]
}
