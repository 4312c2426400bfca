credential "default" {
  user             = "deploy"
  private_key_file = "/etc/ripple/keys/deploy"
  known_hosts_file = "/etc/ripple/known_hosts"
  become           = "sudo"
}

host "web-01" {
  address = "10.0.1.11"
  groups  = ["web", "tokyo"]
  labels  = { os = "debian12" }
}
host "web-02" {
  address = "10.0.1.12"
  groups  = ["web", "tokyo"]
  labels  = { os = "debian12" }
}
host "web-03" {
  address = "10.0.1.13"
  groups  = ["web", "osaka"]
  labels  = { os = "debian12" }
}
host "web-04" {
  address = "10.0.1.14"
  groups  = ["web", "osaka"]
  labels  = { os = "debian12" }
  vars    = { nginx_workers = 8 }
}
host "db-01" {
  address = "10.0.2.11"
  groups  = ["db", "tokyo"]
  labels  = { os = "debian12" }
}
host "db-02" {
  address = "10.0.2.12"
  groups  = ["db", "osaka"]
  labels  = { os = "rocky9" }
}
host "web-05" {
  address = "10.0.1.15"
  groups  = ["web", "osaka"]
  labels  = { os = "debian12" }
}
