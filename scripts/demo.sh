#!/usr/bin/env bash
# The one-machine demo: start the DNS lab on loopback, sweep its space, search it.
# Usage: scripts/demo.sh BIN_DIR LAB_ADDR SPACE
set -euo pipefail
bin=${1:-bin} lab=${2:-127.0.0.2:53535} space=${3:-198.18.0.0/16}
case $lab in 127.*) ;; *) echo "demo: the lab must listen on 127.0.0.0/8, not $lab" >&2; exit 2 ;; esac

"$bin/ptrlab" serve --listen "$lab" --space "$space" &
lab_pid=$!
trap 'kill "$lab_pid" 2>/dev/null; wait "$lab_pid" 2>/dev/null || true' EXIT
sleep 0.5
kill -0 "$lab_pid" 2>/dev/null || { echo "demo: the DNS lab did not start on $lab" >&2; exit 1; }

scan="demo-$(date -u +%Y%m%d-%H%M%S)"
dsn=${PTRSWEEP_CLICKHOUSE:-clickhouse://127.0.0.1:9000/ptrsweep}
echo "== sweeping the lab's $space (IANA benchmarking range, hence --allow-reserved) via $lab"
"$bin/coordinator" sweep --cidr "$space" --allow-reserved --resolvers "$lab" \
  --scan "$scan" --confirm --qps 50000 --timeout 500ms --clickhouse "$dsn"
echo
echo "== coordinator search --suffix security.fleet.example --scan $scan --group netblock"
"$bin/coordinator" search --suffix security.fleet.example --scan "$scan" --group netblock --clickhouse "$dsn"
echo
echo "== first rows of: coordinator search --suffix security.fleet.example --scan $scan --format table"
"$bin/coordinator" search --suffix security.fleet.example --scan "$scan" --format table --clickhouse "$dsn" | sed -n 1,12p
echo
# The API and the page on the demo's data. On a terminal serve runs in the
# foreground until Ctrl-C; otherwise (make demo in a script or CI) it runs for
# DEMO_SERVE_SECONDS and the demo exits.
listen=${DEMO_LISTEN:-127.0.0.1:8080}
query="ptr_part = 'security.fleet.example' AND scan = '$scan'"
url="http://$listen/?q=$(printf %s "$query" | sed "s/ /%20/g; s/'/%27/g; s/=/%3D/g")"
echo "== coordinator serve --listen $listen: open $url"
if [ -t 1 ]; then
  echo "   (Ctrl-C stops it)"
  "$bin/coordinator" serve --listen "$listen" --clickhouse "$dsn" --log-level warn || true
else
  secs=${DEMO_SERVE_SECONDS:-10}
  echo "   (not a terminal: serving for ${secs}s; to serve again: $bin/coordinator serve --listen $listen --clickhouse $dsn)"
  rc=0
  timeout --signal=TERM "$secs" "$bin/coordinator" serve --listen "$listen" --clickhouse "$dsn" --log-level warn || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
    echo "demo: coordinator serve failed (exit $rc)" >&2
    exit "$rc"
  fi
fi
