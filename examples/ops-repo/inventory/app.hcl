group "app" {
  description = "application servers behind nginx"
}

host "app-01" {
  address = "10.0.2.21"
  groups  = ["app", "tokyo"]
  labels  = { os = "debian12" }
}

host "app-02" {
  address = "10.0.2.22"
  groups  = ["app", "tokyo"]
  labels  = { os = "debian12" }
}

host "app-03" {
  address = "10.0.2.23"
  groups  = ["app", "tokyo"]
  labels  = { os = "debian12" }
}
