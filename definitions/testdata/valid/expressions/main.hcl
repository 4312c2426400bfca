# Functions, heredocs and conditionals in per-host strings; a local host
# needs no credential.
host "ctl" {
  transport = "local"
  labels    = { role = "controller" }
  vars      = { greeting = "hello", ports = [80, 443] }
}

job "greet" {
  targets { labels = { role = "controller" } }
  step "say" {
    run = format("echo %s %s", upper(host.vars.greeting), join(",", host.groups))
  }
  step "heredoc" {
    run = <<-EOT
      echo ${replace(host.name, "c", "C")}
      echo ${host.port == 22 ? "default port" : "port ${host.port}"}
    EOT
    idempotent = true
  }
  step "secret" {
    run = "curl -H 'Authorization: ${trimspace(file("/etc/ripple/token"))}' https://${lower(host.address)}/"
  }
  rollout {
    waves        = ["100%"]
    max_failures = "0%"
    on_failure   = "halt"
  }
}
