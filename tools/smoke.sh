#!/usr/bin/env bash
# Serve the exchange on the embedded default (SQLite + local-memory cache) with the
# production server and settings, and drive it through the API.
set -euo pipefail
cd "$(dirname "$0")/.."
workdir=$(mktemp -d)
port="${SMOKE_PORT:-8099}"
export SQLITE_PATH="${workdir}/smoke.sqlite3"
export DEBUG=0 SECURE_SSL_REDIRECT=0 ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=WARNING
export SECRET_KEY="smoke-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(40))')"
export API_KEY_ENCRYPTION_KEY="$(.venv/bin/python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
unset DATABASE_URL REDIS_URL
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo >/dev/null
keys=$(.venv/bin/python manage.py create_api_key alice --permissions read,trade --label smoke)
api_key=$(echo "$keys" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])')
secret=$(echo "$keys" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["secretKey"])')
PORT="$port" WEB_WORKERS=2 .venv/bin/gunicorn --config gunicorn.conf.py exchange.wsgi:application &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$workdir"' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:${port}/readyz" >/dev/null && break
  sleep 0.2
done
.venv/bin/python -m tools.smoke "http://127.0.0.1:${port}" "$api_key" "$secret"
kill $server
wait $server 2>/dev/null || true
.venv/bin/python manage.py reconcile
