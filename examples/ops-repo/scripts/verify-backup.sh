#!/bin/sh
# Verifies the newest PostgreSQL dump: it exists, is from the last 26 hours,
# and pg_restore can read its table of contents.
set -eu
dir=/var/backups/postgresql
latest=$(ls -1t "$dir"/*.dump 2>/dev/null | head -n 1)
[ -n "$latest" ] || { echo "no dump in $dir" >&2; exit 2; }
age=$(( $(date +%s) - $(stat -c %Y "$latest") ))
[ "$age" -lt 93600 ] || { echo "$latest is $((age / 3600))h old" >&2; exit 2; }
pg_restore --list "$latest" >/dev/null
echo "ok: $latest ($(du -h "$latest" | cut -f1), $((age / 3600))h old)"
