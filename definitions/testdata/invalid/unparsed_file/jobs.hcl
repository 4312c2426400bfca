job "j" {
  targets { hosts = ["deep"] }
  step "s" { run = "true" }
}
