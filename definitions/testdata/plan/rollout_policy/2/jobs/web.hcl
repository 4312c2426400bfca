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
    waves         = [1, "50%"]
    max_failures  = 1
    pause         = "5m"
    approve_after = 1
    on_failure    = "halt"
    health_gate {
      monitors         = ["web-http"]
      min_healthy_time = "1m30s"
      healthy_deadline = "1h"
    }
  }
}

job "nginx-package" {
  targets { groups = ["web"] }
  step "install" {
    run = "apt-get install -y --no-install-recommends nginx=${host.vars.nginx_version}"
  }
  rollout {
    waves         = [1, "100%"]
    approve_after = 2
  }
}
