#!/usr/bin/env bash
# Installs ClickHouse from Debian if it is missing and starts it if it is not
# running, then waits until it answers on the native port (9000).
set -euo pipefail

if ! command -v clickhouse-server >/dev/null 2>&1 && [ ! -x /usr/sbin/clickhouse-server ]; then
  echo "installing clickhouse-server from Debian…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q clickhouse-server clickhouse-client
fi

answers() { clickhouse-client --host 127.0.0.1 --port 9000 -q 'SELECT 1' >/dev/null 2>&1; }

if ! answers; then
  echo "starting clickhouse-server…" >&2
  # The package's service start is blocked by policy-rc.d in containers;
  # start the daemon directly, as the clickhouse user.
  mkdir -p /var/lib/clickhouse /var/log/clickhouse-server
  chown -R clickhouse:clickhouse /var/lib/clickhouse /var/log/clickhouse-server 2>/dev/null || true
  start-stop-daemon --start --oknodo --chuid clickhouse:clickhouse --background \
    --exec /usr/sbin/clickhouse-server -- --config=/etc/clickhouse-server/config.xml
  for _ in $(seq 1 60); do
    answers && break
    sleep 1
  done
fi
if ! answers; then
  echo "clickhouse-server did not start; see /var/log/clickhouse-server/" >&2
  exit 1
fi
echo "clickhouse: $(clickhouse-client --host 127.0.0.1 --port 9000 -q 'SELECT version()') on 127.0.0.1:9000" >&2
