host "a" {
  address = "a.example"
  transport = "local"
  labels = { os = } # ERROR: Invalid expression
}
