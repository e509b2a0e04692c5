#!/usr/bin/env bash
# Prepare the production-like stack on this machine: PostgreSQL and Redis up, a
# database, generated secrets (kept in var/prod.env), migrations, demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
DB_NAME="${PROD_DB_NAME:-exchange}"

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/exchange.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='${DB_NAME}'" \
  | grep -q 1 || createdb -h 127.0.0.1 -U postgres "${DB_NAME}"

if [ ! -f var/prod.env ]; then
  secret=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
  fernet=$(.venv/bin/python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')
  umask 077
  cat > var/prod.env <<ENV
SECRET_KEY=${secret}
API_KEY_ENCRYPTION_KEY=${fernet}
ENV
fi
cat > var/prod-settings.env <<ENV
DEBUG=0
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/${DB_NAME}}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
ALLOWED_HOSTS=127.0.0.1,localhost
SECURE_SSL_REDIRECT=0
SESSION_COOKIE_SECURE=0
CSRF_COOKIE_SECURE=0
SECURE_HSTS_SECONDS=0
LOG_LEVEL=${LOG_LEVEL:-WARNING}
ENV
set -a
. var/prod.env
. var/prod-settings.env
set +a
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo
# Collecting compresses every file again (about half a minute); skip it while
# nothing that goes into staticfiles/ is newer than its manifest.
manifest=staticfiles/staticfiles.json
if [ ! -f "$manifest" ] || [ -n "$(find web/src exchange/settings.py \
    exchange/staticfiles.py .venv/.installed -newer "$manifest" -print -quit)" ]; then
  .venv/bin/python manage.py collectstatic --noinput -v0
fi
