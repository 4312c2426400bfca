# A syntax error in one block: the parser drops what follows it, so only
# the syntax error is reported for that block, and nothing that follows
# from the blocks it dropped (host web-01 below is never decoded). Blocks
# before it, and in other files, are still checked on their own.
host "bad" {
  address   = "a b" # ERROR: Invalid host address
  transport = "local"
}

group "web" { # ERROR: Unclosed configuration block
  vars = { version = "1.2"
}

host "web-01" {
  address = "10.0.0.1"
  groups  = ["web"]
}
