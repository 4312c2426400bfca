# Keys and known_hosts live on the ripple host, never in this repo.
credential "default" {
  user             = "ripple"
  private_key_file = "/etc/ripple/keys/ripple"
  known_hosts_file = "/etc/ripple/known_hosts"
  become           = "sudo"
}

snmp "switch-v3" {
  version         = "3"
  user            = "ripple"
  auth_protocol   = "SHA256"
  auth_passphrase = env("SNMP_AUTH")
  priv_protocol   = "AES"
  priv_passphrase = env("SNMP_PRIV")
}
