#!/usr/bin/env bash
# Make sure the real services the test suite talks to are installed and running:
# PostgreSQL on 127.0.0.1:5432 (trust auth), Redis on 127.0.0.1:6379, Debian's Chromium.
# Installs missing Debian packages when run as root; otherwise says exactly what to install.
set -euo pipefail

need_root() {
  echo "error: $1 is missing. Install it with: sudo apt-get install -y $2" >&2
  exit 1
}

apt_install() {
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
  else
    need_root "$1" "$*"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# PostgreSQL
if ! port_open 5432; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do port_open 5432 && break; sleep 1; done
fi
port_open 5432 || { echo "error: PostgreSQL is not listening on 127.0.0.1:5432" >&2; exit 1; }

# Redis (the restart tests also run redis-server processes of their own on spare ports)
command -v redis-server >/dev/null || apt_install redis-server
if ! port_open 6379; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do port_open 6379 && break; sleep 1; done
fi
port_open 6379 || { echo "error: Redis is not listening on 127.0.0.1:6379" >&2; exit 1; }

# Chromium for the browser tests (Playwright drives Debian's build; it cannot download one).
[ -x /usr/bin/chromium ] || apt_install chromium
echo "services ready: PostgreSQL :5432, Redis :6379, /usr/bin/chromium"
