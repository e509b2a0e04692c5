"""gunicorn settings, from the environment. The same file serves `make serve-prod`
and the container image, so what is benchmarked is what ships.

One request at a time per worker, one worker more than there are cores, and a
listening socket per worker (docs/performance.md): each request spends part of
its time waiting on PostgreSQL and Redis, which the extra worker fills; more
threads per worker measured no better (the GIL, and a pair lock held across a
thread switch). The worker is gthread's event loop serving each request on its
own thread (exchange/worker.py); WEB_WORKER_CLASS=gthread brings back gunicorn's.
"""

import gc
import os
import shutil

bind = f"{os.environ.get('BIND_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = os.environ.get("WEB_WORKER_CLASS") or "exchange.worker.InlineWorker"
workers = int(os.environ.get("WEB_WORKERS") or (os.cpu_count() or 1) + 1)
threads = int(os.environ.get("WEB_THREADS") or 1)
timeout = int(os.environ.get("WEB_TIMEOUT") or 30)
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT") or 30)
keepalive = int(os.environ.get("WEB_KEEPALIVE") or 5)
backlog = int(os.environ.get("WEB_BACKLOG") or 2048)
worker_tmp_dir = "/dev/shm"  # noqa: S108 - memory-backed heartbeat files, by design
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Each worker listens on its own socket and the kernel spreads new connections
# over them. On one shared socket, whichever worker woke first took most of the
# clients' keep-alive connections and kept them: under load one worker queued
# while the others idled (docs/performance.md).
reuse_port = os.environ.get("WEB_REUSE_PORT", "1") != "0"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Metrics from every worker are aggregated through files in this directory.
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    f"/dev/shm/exchange-metrics-{bind.rsplit(':', 1)[1]}",  # noqa: S108 - emptied at start
)


def on_starting(server):
    """Start with no metric files left by an earlier run."""
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the aggregate."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Freeze what the worker has built so far: the application, loaded with
    every view (exchange/wsgi.py).

    CPython's full collection walks every tracked object; in a worker that is
    Django, DRF and the project's modules, settings and URL patterns, none of which
    ever becomes garbage, and one full collection held the worker for 75 to 110
    ms (docs/performance.md) while its connections waited. Frozen, they are
    not walked again and a full collection takes a few ms. WEB_GC_FREEZE=0
    leaves the collector as it was, for comparison.
    """
    if os.environ.get("WEB_GC_FREEZE", "1") != "0":
        gc.collect()
        gc.freeze()
