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
  # Everything at once, no gate, no stop: every weakening flagged.
  rollout {
    waves        = ["100%"]
    max_failures = "50%"
    on_failure   = "halt"
  }
}

job "nginx-package" {
  targets { groups = ["web"] }
  drift_check = "1h"
  self_heal   = true
  step "install" {
    run = "apt-get install -y nginx=${host.vars.nginx_version}"
  }
  step "register" {
    run = "curl -fsS -H 'Authorization: ${env("REGISTRY_TOKEN")}' https://registry.example.net/${host.name}"
  }
  rollout { waves = [1, "100%"] }
}
