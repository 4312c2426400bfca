job "security-updates" {
  description = "weekly Debian security updates, app tier first"
  targets { labels = { os = "debian12" } }
  schedule = "30 1 * * SAT" # in the window's time zone (Asia/Tokyo)
  window   = "weekend-night"
  step "upgrade" {
    run     = "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get -y -q upgrade"
    timeout = "30m"
  }
  step "reboot-if-needed" {
    run     = "if [ -f /var/run/reboot-required ]; then systemctl reboot; fi"
    timeout = "1m"
  }
  rollout {
    waves        = [1, "25%", "50%", "100%"]
    max_parallel = 5
    max_failures = 0
    pause        = "5m"
    on_failure   = "halt" # packages cannot be rolled back; stop and page
    health_gate {
      monitors         = ["web-http", "app-port"]
      min_healthy_time = "1m"
      healthy_deadline = "10m"
    }
  }
}
