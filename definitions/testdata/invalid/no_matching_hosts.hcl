host "a" {
  address   = "a.example"
  transport = "local"
  labels    = { os = "debian12" }
}

group "empty" {
  description = "declared, but no host is in it yet"
}

job "labels" {
  targets { labels = { os = "rocky9" } } # WARNING: No matching hosts
  step "s" { run = "true" }
}

job "excluded" {
  targets { # WARNING: No matching hosts
    hosts   = ["a"]
    exclude = ["a"]
  }
  step "s" { run = "true" }
}

monitor "empty-group" {
  targets { groups = ["empty"] } # WARNING: No matching hosts
  check "command" { run = "true" }
}

monitor "empty-targets" {
  targets { } # ERROR: Empty targets # WARNING: No matching hosts
  check "command" { run = "true" }
}
