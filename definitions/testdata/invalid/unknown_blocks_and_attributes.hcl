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

# A block left out (unknown type, invalid name) is reported once: the
# names that refer to it are not also unknown.
job "refs" {
  targets { hosts = ["b", "bad name"] }
  step "s" { run = "true" }
}

host "bad name" { # ERROR: Invalid name
  address = "10.0.0.3"
}
