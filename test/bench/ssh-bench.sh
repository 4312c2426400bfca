#!/usr/bin/env bash
# ssh-bench.sh: one trivial command (`true`) on N real sshd hosts with
# ripple's SSH executor, parallel-ssh (OpenSSH client) and ansible ad-hoc, at
# the same concurrency. Prints hosts/second for each, the ratios, and
# ripple's peak RSS. Not a timed test: run it by hand.
#
#   test/bench/ssh-bench.sh [N=200] [CONCURRENCY=50]
#
# ansible runs on the first ANSIBLE_HOSTS hosts only (default: N, or 2 x
# CONCURRENCY when that is smaller): at its speed the whole fleet would take
# many minutes, and hosts/second is a rate. Set ANSIBLE_HOSTS=N for all.
#
# Needs: Go, openssh-server, openssh-client, pssh, ansible (Debian packages).
# Every step is bounded by timeout(1); the fleet is torn down on exit.
set -euo pipefail

N=${1:-200}
C=${2:-50}
STEP_TIMEOUT=${STEP_TIMEOUT:-600}

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ssh-bench.XXXXXX")
fleet_pid=
cleanup() {
  if [ -n "$fleet_pid" ]; then
    kill "$fleet_pid" 2>/dev/null || true
    wait "$fleet_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

PSSH=$(command -v parallel-ssh || command -v pssh || true)
ANSIBLE=$(command -v ansible || true)

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" -v e="$3" 'BEGIN { printf "%.2f", n / (e - s) }'; }

echo "building sshbench..."
(cd "$root" && timeout 300 go build -o "$work/sshbench" ./test/bench/sshbench)

mkdir -p "$work/fleet"
"$work/sshbench" fleet -n "$N" -dir "$work/fleet" &
fleet_pid=$!
for _ in $(seq 1 600); do
  [ -e "$work/fleet/ready" ] && break
  kill -0 "$fleet_pid" 2>/dev/null || { echo "fleet failed to start" >&2; exit 1; }
  sleep 0.1
done
[ -e "$work/fleet/ready" ] || { echo "fleet not ready after 60s" >&2; exit 1; }

key=$(cat "$work/fleet/key")
kh=$(cat "$work/fleet/known_hosts")
user=$(cat "$work/fleet/user")
echo "hosts=$N concurrency=$C cores=$(nproc)"

# ripple
out=$(timeout "$STEP_TIMEOUT" "$work/sshbench" run -dir "$work/fleet" -c "$C")
echo "$out"
ripple_rate=$(sed -n 's/.*ripple_hosts_per_sec=\([0-9.]*\).*/\1/p' <<<"$out")

# parallel-ssh: same key, strict host key checking, curve25519 key exchange
pssh_rate=
if [ -n "$PSSH" ]; then
  start=$(now)
  set +e
  timeout "$STEP_TIMEOUT" "$PSSH" -h "$work/fleet/pssh_hosts" -p "$C" -t 120 \
    -x "-F /dev/null -i $key -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$kh -o KexAlgorithms=curve25519-sha256" \
    true >"$work/pssh.out" 2>&1
  set -e
  end=$(now)
  ok=$(grep -c '\[SUCCESS\]' "$work/pssh.out" || true)
  pssh_rate=$(rate "$N" "$start" "$end")
  [ "$ok" -lt "$N" ] && { echo "parallel-ssh failures (first 3):"; grep -v '\[SUCCESS\]' "$work/pssh.out" | head -n 3; }
  echo "pssh_ok=$ok pssh_total=$N pssh_seconds=$(awk -v s="$start" -v e="$end" 'BEGIN{printf "%.3f", e-s}') pssh_hosts_per_sec=$pssh_rate"
else
  echo "parallel-ssh not installed: skipped"
fi

# ansible ad-hoc: same key and known_hosts, strict checking
ansible_rate=
AN=${ANSIBLE_HOSTS:-$(( N < 2 * C ? N : 2 * C ))}
if [ -n "$ANSIBLE" ]; then
  head -n "$((AN + 1))" "$work/fleet/inventory.ini" >"$work/ansible.ini"
  start=$(now)
  set +e
  ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 \
  ANSIBLE_SSH_ARGS="-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$kh -o ControlMaster=no" \
  ANSIBLE_LOCAL_TEMP="$work/ansible-local" ANSIBLE_REMOTE_TEMP="$work/ansible-remote" \
    timeout "$STEP_TIMEOUT" "$ANSIBLE" all -i "$work/ansible.ini" -u "$user" --private-key "$key" \
    -m command -a true -f "$C" -o >"$work/ansible.out" 2>&1
  set -e
  end=$(now)
  ok=$(grep -cE '\| (CHANGED|SUCCESS)' "$work/ansible.out" || true)
  ansible_rate=$(rate "$AN" "$start" "$end")
  [ "$ok" -lt "$AN" ] && { echo "ansible failures (first 3):"; grep -vE '\| (CHANGED|SUCCESS)' "$work/ansible.out" | head -n 3 | cut -c1-300; }
  echo "ansible_ok=$ok ansible_total=$AN ansible_seconds=$(awk -v s="$start" -v e="$end" 'BEGIN{printf "%.3f", e-s}') ansible_hosts_per_sec=$ansible_rate"
else
  echo "ansible not installed: skipped"
fi

[ -n "$pssh_rate" ] && awk -v r="$ripple_rate" -v p="$pssh_rate" 'BEGIN { printf "ripple/parallel-ssh = %.2fx (target >= 1.5x)\n", r / p }'
[ -n "$ansible_rate" ] && awk -v r="$ripple_rate" -v a="$ansible_rate" 'BEGIN { printf "ripple/ansible = %.1fx (target >= 15x)\n", r / a }'
exit 0
