#!/usr/bin/env bash
# Installs what ptrsweep's tests and lab need from Debian (ClickHouse, Knot,
# Unbound, dnsperf) when missing, and starts ClickHouse.
set -euo pipefail
need=()
for pair in clickhouse-server:/usr/sbin/clickhouse-server knot:/usr/sbin/knotd unbound:/usr/sbin/unbound dnsperf:/usr/bin/dnsperf; do
  pkg=${pair%%:*} bin=${pair#*:}
  [ -x "$bin" ] || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing from Debian: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${need[@]}" clickhouse-client
fi
# The Debian packages start services through systemd, absent here; make sure
# no packaged Knot or Unbound holds port 53 that the lab might expect free.
"$(dirname "$0")/clickhouse.sh"
