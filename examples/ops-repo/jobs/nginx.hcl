job "nginx-config" {
  description = "nginx config for the web tier"
  targets {
    groups = ["web"]
  }
  step "config" {
    file {
      source      = "../files/nginx.conf.tmpl"
      destination = "/etc/nginx/nginx.conf"
      mode        = "0644"
    }
  }
  step "reload" {
    run     = "nginx -t && systemctl reload nginx"
    timeout = "30s"
  }
  rollout {
    waves         = [1, "100%"] # one canary, then the rest
    max_parallel  = 10
    max_failures  = 0
    pause         = "1m"
    approve_after = 1 # a human looks at the canary
    on_failure    = "rollback"
    health_gate {
      monitors         = ["web-http"]
      min_healthy_time = "30s"
      healthy_deadline = "5m"
    }
  }
  rollback {
    step "reload-previous" { run = "nginx -t && systemctl reload nginx" }
  }
}
