#!/usr/bin/env bash
# Installs what ptrsweep's tests and lab need from Debian (ClickHouse, Knot,
# Unbound, dnsperf, Chromium for the page's browser test) when missing, and starts ClickHouse (scripts/clickhouse.sh).
set -euo pipefail
need=()
for pair in clickhouse-server:/usr/sbin/clickhouse-server knot:/usr/sbin/knotd unbound:/usr/sbin/unbound dnsperf:/usr/bin/dnsperf chromium:/usr/bin/chromium; do
  pkg=${pair%%:*} bin=${pair#*:}
  [ -x "$bin" ] || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing from Debian: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${need[@]}" clickhouse-client
fi
# Knot and Unbound are only installed: their packaged services are not
# started (no systemd here), and the lab runs its own instances on loopback
# ports it picks. clickhouse.sh installs ClickHouse if still missing, starts
# it and waits until it answers.
"$(dirname "$0")/clickhouse.sh"
