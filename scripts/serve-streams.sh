#!/usr/bin/env bash
# The live side (market streams and the WebSocket API) on uvicorn: one process,
# one event loop, exchange.asgi (which also answers HTTP through Django, so
# /healthz and /readyz work for the probes). `make run` uses it for everything on
# one port, serve-prod next to gunicorn. The image leaves scripts/ out: its
# Deployment (infra/k8s/base/streams-deployment.yaml) and docker-compose.yml spell
# out the same flags.
#   BIND_HOST (127.0.0.1), STREAMS_PORT (else PORT, else 8000)
#   --ws-ping-interval 20 / --ws-ping-timeout 60: Binance's keepalive (a ping every
#     20 s, a peer that has not answered within a minute is dropped); client pings
#     are answered by the WebSocket implementation.
#   --ws-max-size 65536: a larger frame closes the connection (1009).
set -euo pipefail
cd "$(dirname "$0")/.."
UVICORN="${UVICORN:-uvicorn}"
[ -x .venv/bin/uvicorn ] && [ "$UVICORN" = uvicorn ] && UVICORN=.venv/bin/uvicorn
exec "$UVICORN" exchange.asgi:application \
  --host "${BIND_HOST:-127.0.0.1}" \
  --port "${STREAMS_PORT:-${PORT:-8000}}" \
  --ws websockets-sansio \
  --ws-max-size 65536 \
  --ws-ping-interval 20 \
  --ws-ping-timeout 60 \
  --lifespan on \
  --timeout-graceful-shutdown 20 \
  --log-level "$(echo "${LOG_LEVEL:-info}" | tr '[:upper:]' '[:lower:]')" \
  "$@"
