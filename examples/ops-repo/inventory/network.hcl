group "core-switch" {
  description = "core switches, monitored over SNMPv3 only"
}

host "core-sw-1" {
  address = "10.0.0.2"
  groups  = ["core-switch"]
  snmp    = "switch-v3"
}

host "core-sw-2" {
  address = "10.0.0.3"
  groups  = ["core-switch"]
  snmp    = "switch-v3"
}
