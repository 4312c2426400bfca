# The lab's hosts (inventory/lab.hcl) are written by `ripple demo` from the
# lab it starts: lab-01..04 are web front ends, the rest app servers.
group "web" {
  description = "front ends"
  vars        = { workers = 4 }
}

group "app" {
  description = "application servers"
  vars        = { workers = 8 }
}
