#!/usr/bin/env bash
# Install Debian's Chromium for the admin browser test, idempotently.
#
# The test drives /usr/bin/chromium through Playwright's Python package; no test tool
# downloads a browser build of its own. Run as root (CI and the dev machines are).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  /usr/bin/chromium --version 2>/dev/null || true
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: apt-get not found; install Chromium at /usr/bin/chromium" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
