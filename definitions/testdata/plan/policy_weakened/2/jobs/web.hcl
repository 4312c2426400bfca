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
  # Slower and more careful: shown, nothing flagged.
  rollout {
    waves         = [1, "25%", "100%"]
    max_failures  = 0
    approve_after = 1
    pause         = "5m"
    health_gate {
      monitors         = ["web-http"]
      min_healthy_time = "1m"
      healthy_deadline = "5m"
    }
  }
}

job "nginx-package" {
  targets { groups = ["web"] }
  step "install" {
    run = "apt-get install -y nginx=${host.vars.nginx_version}"
  }
  rollout { waves = [1, "100%"] }
}
