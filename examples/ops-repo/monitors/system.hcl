# Debian's monitoring-plugins-basic on every host: exit codes are the state,
# perfdata becomes metrics for graphs and `ripple capacity`.
monitor "disk-root" {
  targets { labels = { os = "debian12" } }
  interval = "5m"
  check "command" { run = "/usr/lib/nagios/plugins/check_disk -w 20% -c 10% -p /" }
  alert_after = 2
  window      = "weekend-night" # patching fills /var/cache; no pages then
  notify      = ["ops-mail"]
}

monitor "load" {
  targets { labels = { os = "debian12" } }
  interval = "1m"
  check "command" { run = "/usr/lib/nagios/plugins/check_load -w 8,6,4 -c 16,12,8" }
  alert_after = 5
  notify      = ["ops-chat"]
}

monitor "postgres-procs" {
  targets { groups = ["db"] }
  interval = "1m"
  check "command" { run = "/usr/lib/nagios/plugins/check_procs -c 1: -C postgres" }
  alert_after = 2
  notify      = ["ops-pager"]
}
