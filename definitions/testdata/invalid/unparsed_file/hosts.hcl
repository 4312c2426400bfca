# This file is refused before parsing, so every block in it is missing:
# what refers to them elsewhere is not reported until it is fixed.
host "deep" {
  address = "10.0.0.1"
  vars    = { x = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]] } # ERROR: Input nested too deeply
}
