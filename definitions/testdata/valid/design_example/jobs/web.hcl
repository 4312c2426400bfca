job "nginx-config" {
  description = "nginx config for the web tier"
  targets {
    groups  = ["web"]
    exclude = ["web-02"]
  }
  step "config" {
    file {
      source      = "../files/nginx.conf.tmpl"
      destination = "/etc/nginx/nginx.conf"
      mode        = "0644"
      owner       = "root"
      group       = "root"
    }
  }
  step "reload" {
    run        = "nginx -t && systemctl reload nginx"
    timeout    = "30s"
    idempotent = true
  }
  rollout {
    waves         = [1, "10%", "50%", "100%"]
    max_parallel  = 50
    max_failures  = "5%"
    pause         = "1m"
    approve_after = 1
    on_failure    = "rollback"
    health_gate {
      monitors         = ["web-http"]
      min_healthy_time = "30s"
      healthy_deadline = "5m"
    }
  }
  rollback {
    step "restore" { run = "systemctl reload nginx" }
  }
}

job "security-updates" {
  targets { labels = { os = "debian12" } }
  schedule = "0 2 * * SUN"
  window   = "weekend-night"
  timezone = "Asia/Tokyo"
  step "upgrade" {
    run     = "apt-get update && apt-get -y upgrade"
    timeout = "30m"
  }
  step "report" {
    script = "../scripts/report.sh"
  }
  rollout {
    waves        = ["10%", "100%"]
    max_failures = 0
  }
}
