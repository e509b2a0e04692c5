#!/usr/bin/env bash
# Install Debian's wrk for make bench's served ceilings, idempotently.
#
# make bench measures a bare WSGI app, ping and depth with wrk before the mixed
# steps, so that its figures are also ratios that survive a change of machine.
# Without wrk the bench still runs, and says the ceilings are missing.
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "install-wrk: cannot install wrk here (needs apt-get as root); the bench runs without ceilings" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq wrk >/dev/null || echo "install-wrk: apt-get could not install wrk" >&2
