job "app-config" {
  description = "app.conf, rendered per host, then a restart"
  targets { groups = ["web", "app"] }

  step "render" {
    run     = <<-EOT
      [ ! -f app.conf ] || cp app.conf app.conf.previous
      cat >app.conf.new <<'CONF'
      # app.conf for ${host.name}: managed by ripple (job app-config)
      version  = 1.5.0
      workers  = ${host.vars.workers}
      cache_mb = 256
      CONF
      mv app.conf.new app.conf
      sed -n 's/^version *= *//p' app.conf >>history
    EOT
    timeout = "30s"
  }
  step "restart" {
    script  = "../scripts/restart-app.sh"
    timeout = "30s"
  }

  rollout {
    waves        = [1, "25%", "100%"] # a canary, a quarter, the rest
    max_parallel = 8
    max_failures = "10%"
    pause        = "1s"
    on_failure   = "rollback"
    health_gate {
      monitors         = ["app-health"]
      min_healthy_time = "2s"
      healthy_deadline = "10s"
    }
  }
  rollback {
    step "restore" {
      run = "cp app.conf.previous app.conf && echo \"rollback to $(sed -n 's/^version *= *//p' app.conf)\" >>history"
    }
    step "restart" { script = "../scripts/restart-app.sh" }
  }
}
