group "web" {
  description = "nginx front ends"
  vars        = { nginx_workers = 4, upstream_port = 8080 }
}

host "web-01" {
  address = "10.0.1.11"
  groups  = ["web", "tokyo"]
  labels  = { os = "debian12", rack = "r1" }
}

host "web-02" {
  address = "10.0.1.12"
  groups  = ["web", "tokyo"]
  labels  = { os = "debian12", rack = "r2" }
  vars    = { nginx_workers = 8 } # bigger box
}
