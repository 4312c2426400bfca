host "a" {
  address   = "a.example"
  transport = "local"
}

job "files" {
  targets { hosts = ["a"] }
  step "ok" {
    file {
      source      = "../files/ok.tmpl"
      destination = "/etc/ok"
    }
  }
  step "missing" {
    file {
      source      = "../files/missing.tmpl" # ERROR: Source file not found
      destination = "/etc/missing"
    }
  }
  step "escape" {
    file {
      source      = "../../../../../etc/passwd" # ERROR: Source outside the repository
      destination = "/etc/passwd"
    }
  }
  step "absolute" {
    file {
      source      = "/etc/passwd" # ERROR: Source outside the repository
      destination = "/etc/passwd"
    }
  }
  step "symlink" {
    file {
      source      = "../files/link.tmpl" # ERROR: Source outside the repository
      destination = "/etc/link"
    }
  }
  step "relative-destination" {
    file {
      source      = "../files/ok.tmpl"
      destination = "etc/ok" # ERROR: Invalid destination
    }
  }
  step "unclean-destination" {
    file {
      source      = "../files/ok.tmpl"
      destination = "/etc/../root/.ssh/authorized_keys" # ERROR: Invalid destination
    }
  }
  step "mode" {
    file {
      source      = "../files/ok.tmpl"
      destination = "/etc/ok2"
      mode        = "0o9" # ERROR: Invalid file mode
    }
  }
  step "mode-big" {
    file {
      source      = "../files/ok.tmpl"
      destination = "/etc/ok3"
      mode        = "17777" # ERROR: Invalid file mode
    }
  }
  step "bad-template" {
    file {
      source      = "../files/bad.tmpl"
      destination = "/etc/bad"
    }
  }
  step "script-escape" {
    script = "../../outside.sh" # ERROR: Source outside the repository
  }
}
