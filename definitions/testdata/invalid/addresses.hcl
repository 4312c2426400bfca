host "ok-v4" {
  address   = "192.0.2.1"
  transport = "local"
}
host "ok-v6" {
  address   = "[2001:db8::1]"
  transport = "local"
}
host "space" {
  address   = "a b" # ERROR: Invalid host address
  transport = "local"
}
host "option" {
  address   = "-oProxyCommand=sh" # ERROR: Invalid host address
  transport = "local"
}
host "user" {
  address   = "root@a.example" # ERROR: Invalid host address
  transport = "local"
}
host "semicolon" {
  address   = "a;reboot" # ERROR: Invalid host address
  transport = "local"
}
host "dollar" {
  address   = "$(id)" # ERROR: Invalid host address
  transport = "local"
}
host "quote" {
  address   = "a'b" # ERROR: Invalid host address
  transport = "local"
}
host "bare-v6" {
  address   = "2001:db8::2" # ERROR: Invalid host address
  transport = "local"
}
host "bad-v4" {
  address   = "10.0.0.300" # ERROR: Invalid host address
  transport = "local"
}
host "zone" {
  address   = "[fe80::1%eth0]" # ERROR: Invalid host address
  transport = "local"
}
host "port-zero" {
  address   = "a.example"
  port      = 0 # ERROR: Value out of range
  transport = "local"
}
host "port-big" {
  address   = "a.example"
  port      = 70000 # ERROR: Value out of range
  transport = "local"
}
host "missing" { # ERROR: Missing required argument
  transport = "ssh"
}
host "bad transport" { # ERROR: Invalid name
  address   = "a.example"
  transport = "telnet"
}
host "tr" {
  address   = "a.example"
  transport = "telnet" # ERROR: Invalid value
}
credential "default" {
  user  = "u"
  agent = true
}
