credential "default" {
  user  = "r"
  agent = true
}

host "a" {
  address = "10.0.0.1"
  adress  = "10.0.0.2" # ERROR: Unsupported argument
  extra { } # ERROR: Unsupported block type
}

hots "b" { # ERROR: Unsupported block type
}

top_level = 1 # ERROR: Unsupported argument

job "j" {
  targets { hosts = ["a"] }
  step "s" {
    run   = "true"
    retry = 3 # ERROR: Unsupported argument
  }
  rollout {
    wave = [1] # ERROR: Unsupported argument
  }
}
