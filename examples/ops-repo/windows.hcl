# Saturday night in Tokyo: patching and restarts are allowed.
window "weekend-night" {
  cron     = "0 1 * * SAT"
  duration = "4h"
  timezone = "Asia/Tokyo"
}
