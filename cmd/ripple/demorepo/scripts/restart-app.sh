#!/bin/sh
# The demo's stand-in for restarting a service: it reads app.conf and
# reports its health the way the real one would, through files the
# monitors read. With the cache off, requests time out.
set -eu
version=$(sed -n 's/^version *= *//p' app.conf)
cache=$(sed -n 's/^cache_mb *= *//p' app.conf)
if [ "${cache:-0}" -gt 0 ]; then
  echo "OK app $version serving" >health
  echo 38 >latency_ms
else
  echo "CRITICAL app $version: cache disabled, requests timing out" >health
  echo 2400 >latency_ms
fi
echo "restarted app $version (cache_mb=${cache:-unset})"
