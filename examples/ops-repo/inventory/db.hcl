group "db" {
  description = "PostgreSQL"
  vars        = { backup_dir = "/var/backups/postgresql" }
}

host "db-01" {
  address = "10.0.3.31"
  groups  = ["db"]
  labels  = { os = "debian12", role = "primary" }
}

host "db-02" {
  address = "10.0.3.32"
  groups  = ["db"]
  labels  = { os = "debian12", role = "replica" }
}
