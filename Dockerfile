# syntax=docker/dockerfile:1
#
# The exchange image: one container for the API, the migration job and the
# operator commands. Two stages: `build` resolves the pinned requirements into
# a virtualenv and collects static files; `runtime` copies only that result
# onto a fresh slim base, so no compiler, header or pip cache ships.
#
# The serving command is the one `make serve-prod` runs, so what is
# benchmarked is what ships:
#   gunicorn --config gunicorn.conf.py exchange.wsgi:application
# The live side (WebSocket streams and API) runs from the same image with
#   uvicorn exchange.asgi:application --ws=websockets-sansio ...
# (the flags of scripts/serve-streams.sh; infra/k8s/base/streams-deployment.yaml)
# Workers, threads and timeouts come from WEB_WORKERS, WEB_THREADS,
# WEB_TIMEOUT and WEB_GRACEFUL_TIMEOUT (read by gunicorn.conf.py), and
# gunicorn.conf.py sets worker_tmp_dir=/dev/shm.

FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

WORKDIR /app

# Dependencies first: this layer is reused until requirements.txt changes.
# Every pin must have a manylinux wheel (psycopg[binary] carries libpq), so
# the build needs no compiler and none can leak into the runtime stage.
COPY requirements.txt ./
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --prefer-binary -r requirements.txt

COPY . .

# collectstatic imports the settings, which refuse to start without a
# SECRET_KEY and an API_KEY_ENCRYPTION_KEY when DEBUG is off; these throwaway
# values exist only in this build step and never reach the runtime image or its
# environment. It collects the admin's, Swagger UI's and the web app's files
# (web/src, hashed names, gzip and brotli), so the image needs no node.
RUN SECRET_KEY=collectstatic-build-step-only DEBUG=0 \
    API_KEY_ENCRYPTION_KEY=Y29sbGVjdHN0YXRpYy1idWlsZC1zdGVwLW9ubHktLS0= \
    python manage.py collectstatic --noinput \
    && find /app -name '__pycache__' -prune -exec rm -rf {} +


FROM python:3.11-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="exchange" \
      org.opencontainers.image.description="Spot exchange API (Django, gunicorn)" \
      org.opencontainers.image.licenses="Proprietary"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DEBUG=0 \
    BIND_HOST=0.0.0.0 \
    PORT=8000 \
    PROMETHEUS_MULTIPROC_DIR=/run/prometheus

# A fixed numeric uid/gid so Kubernetes can check runAsNonRoot without a
# passwd lookup. The code stays owned by root: the app user can read it but
# not change it, even where the root filesystem is writable (docker run).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app \
       --no-create-home --shell /usr/sbin/nologin app \
    && install -d -o app -g app -m 0750 /run/prometheus

WORKDIR /app

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

USER 10001:10001

EXPOSE 8000

# Liveness of the process only (/healthz never touches the database), so a
# database outage does not get healthy containers restarted. The slim image
# has no curl; the interpreter is already there.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]

CMD ["gunicorn", "--config", "gunicorn.conf.py", "exchange.wsgi:application"]
