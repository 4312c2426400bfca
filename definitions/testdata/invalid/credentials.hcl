host "a" {
  address    = "a.example"
  credential = "su"
}

credential "su" {
  user             = "root"
  private_key_file = "keys/root" # ERROR: Relative path
  become           = "su" # ERROR: Invalid value
}

credential "literal" {
  user       = "deploy"
  agent      = true
  passphrase = "hunter2" # WARNING: Literal secret
}

credential "nokey" { # ERROR: Missing authentication
  user = "deploy"
}

credential "nouser" { # ERROR: Missing required argument
  agent = true
}
