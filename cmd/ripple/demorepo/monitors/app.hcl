# Nagios plugin conventions: exit 0/1/2/3 = OK/WARNING/CRITICAL/UNKNOWN,
# perfdata after '|'. The simulated service writes the files they read:
# health holds a state word and a message, e.g. "OK app 1.5.0 serving".
monitor "app-health" {
  targets { groups = ["web", "app"] }
  interval = "5s"
  timeout  = "5s"
  check "command" {
    run = <<-EOT
      s=$(cat health 2>/dev/null) || s="UNKNOWN no health file"
      echo "$${s#* }"
      case "$s" in OK*) exit 0 ;; WARNING*) exit 1 ;; CRITICAL*) exit 2 ;; *) exit 3 ;; esac
    EOT
  }
}

monitor "app-latency" {
  targets { groups = ["web", "app"] }
  interval = "5s"
  timeout  = "5s"
  check "command" {
    run = <<-EOT
      ms=$(cat latency_ms 2>/dev/null) || { echo "UNKNOWN: no latency_ms"; exit 3; }
      if [ "$ms" -ge 1000 ]; then s=CRITICAL c=2; elif [ "$ms" -ge 200 ]; then s=WARNING c=1; else s=OK c=0; fi
      echo "$s - p99 latency $ms ms | p99=$${ms}ms;200;1000"
      exit $c
    EOT
  }
  limits = { p99 = 1000 }
}
