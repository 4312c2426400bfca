# DESIGN.md, "Monitoring: logs and traps".
monitor "app-errors" {
  targets { groups = ["web"] }
  interval = "1m"
  notify   = ["ops-chat"]
  check "log" {
    path       = "/var/log/app/error.log"
    rotated    = "/var/log/app/error.log.1"
    pattern    = "ERROR|FATAL"
    exclude    = "healthcheck"
    warn_count = 1
    crit_count = 10
    max_lines  = 5
    max_bytes  = 4194304
  }
}

monitor "per-host-log" {
  targets { groups = ["web"] }
  check "log" {
    path       = "/srv/${host.name}/app.log"
    pattern    = "(?i)panic"
    missing_ok = true
  }
}

trap "link-down" {
  targets { groups = ["core-switch"] }
  oid     = "1.3.6.1.6.3.1.1.5.3" # linkDown
  state   = "CRITICAL"
  clear   = "1.3.6.1.6.3.1.1.5.4" # linkUp on the same host clears it (or: clear_after = "30m")
  message = "link down: ${trap.varbinds["1.3.6.1.2.1.2.2.1.2"]}"
  notify  = ["ops-chat"]
}

trap "cold-start" {
  targets { groups = ["core-switch"] }
  oid         = ".1.3.6.1.6.3.1.1.5.1"
  state       = "WARNING"
  clear_after = "30m"
  window      = "weekend-night"
}
