#!/bin/sh
# What the test suite needs besides npm packages: bubblewrap for the filesystem-isolation tests
# (SPEC §7), a Redis at 127.0.0.1:6379 for the shared rate-limit tests (SPEC §8), nginx (SPEC §12) and
# Chromium for the admin page test (SPEC §15, driven by playwright-core, which downloads no browser). Installs or
# starts what is missing where it can (root with apt-get), and says what to do where it cannot.
set -eu

need_apt() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "test prerequisites: please install $1 (Debian/Ubuntu: apt-get install $1)" >&2
    exit 1
  fi
  if [ -z "${apt_updated:-}" ]; then
    apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

command -v bwrap >/dev/null 2>&1 || need_apt bubblewrap
command -v prlimit >/dev/null 2>&1 || need_apt util-linux
command -v openssl >/dev/null 2>&1 || need_apt openssl
command -v redis-server >/dev/null 2>&1 || need_apt redis-server
# The several-instances tests put Debian's nginx in front of three gateways (SPEC §12); they run
# it themselves on a free port, so the package's own service is not needed.
command -v nginx >/dev/null 2>&1 || need_apt nginx-light
[ -x /usr/bin/chromium ] || need_apt chromium

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  tries=0
  until redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 50 ] || { echo "test prerequisites: redis-server did not come up on 127.0.0.1:6379" >&2; exit 1; }
    sleep 0.1
  done
fi
