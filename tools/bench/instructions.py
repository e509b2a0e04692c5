"""The instructions one served request costs a gunicorn worker, counted.

Usage: python -m tools.bench.instructions [--routes ping,depth,mix] [--requests 500]

On a shared two-core machine, CPU time per request swings by a third from one
run to the next, so a change worth a few percent cannot be seen in it. The
instructions a worker executes are steady: for each route, gunicorn (the
settings and environment of ``make serve-prod``, one worker) runs under
valgrind's callgrind twice, once serving a warm-up only and once serving the
warm-up and then ``--requests`` more; the difference, divided by that number, is
what one request costs the worker in Python and C. The kernel's side (system
calls, and the wake-ups of the processes they reach) is not counted: fewer round
trips show in ``make bench``, not here.

Routes: ``ping`` and ``depth`` (BTCUSDT, 100 levels) over one keep-alive
connection; ``mix``, the load test's mix as ``manage.py request_profile --served``
sends it (seeded, so both runs send the same requests). Needs valgrind, and
PostgreSQL and Redis prepared as for ``make serve-prod``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.bench.__main__ import ROOT, VENV, free_port, prod_env

WARMUP = 100
PATHS = {"ping": "/api/v3/ping", "depth": "/api/v3/depth?symbol=BTCUSDT&limit=100"}
HEADERS = {"User-Agent": "instructions", "Accept": "*/*", "Accept-Encoding": "gzip"}


def _ready(port: int, server: subprocess.Popen, seconds: float = 900) -> None:
    """Wait for the worker: one readiness request, left to wait for it, so that
    both runs serve exactly one."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds)
        try:
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
        finally:
            connection.close()
    raise SystemExit(f"the server on port {port} did not become ready")


def _send(route: str, requests: int, port: int, seed: int) -> None:
    if route == "mix":
        subprocess.run(  # noqa: S603 - fixed argv
            [
                str(VENV / "python"),
                "manage.py",
                "request_profile",
                "--served",
                f"http://127.0.0.1:{port}",
                "--requests",
                str(requests),
                "--seed",
                str(seed),
            ],
            cwd=ROOT,
            env=prod_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        for _ in range(requests):
            connection.request("GET", PATHS[route], headers=HEADERS)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"{route}: answered {response.status}")
    finally:
        connection.close()


def _worker_instructions(route: str, requests: int) -> int:
    """Instructions the worker executed serving the warm-up and ``requests``."""
    port = free_port()
    env = {
        **prod_env(),
        # As make bench: one client address, limits raised, still counted.
        "RATE_LIMIT_WEIGHT_PER_MINUTE": "100000000",
        "RATE_LIMIT_ORDERS_PER_10S": "100000",
        "PORT": str(port),
        "WEB_WORKERS": "1",
        "WEB_TIMEOUT": "900",
        "WEB_BALANCE_CONNECTIONS": "0",
        "WEB_HAND_OVER": "0",
    }
    with tempfile.TemporaryDirectory() as out:
        server = subprocess.Popen(  # noqa: S603 - fixed argv
            [  # noqa: S607 - valgrind from PATH
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}/callgrind.%p",
                str(VENV / "python"),
                str(VENV / "gunicorn"),
                "--config",
                "gunicorn.conf.py",
                "exchange.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _ready(port, server)
            _send(route, WARMUP, port, seed=3)
            if requests:
                _send(route, requests, port, seed=7)
        finally:
            with contextlib.suppress(ProcessLookupError):  # the whole group
                os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=600)
        counts = [
            _total(path)
            for path in Path(out).glob("callgrind.*")
            if path.name != f"callgrind.{server.pid}"  # the arbiter
        ]
    if len(counts) != 1:
        raise SystemExit(f"expected one worker's counts, found {len(counts)}")
    return counts[0]


def _total(path: Path) -> int:
    found = re.search(r"^(?:summary|totals): (\d+)", path.read_text(), re.MULTILINE)
    if found is None:
        raise SystemExit(f"no instruction total in {path}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routes", default="ping,depth,mix")
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    routes = args.routes.split(",")
    unknown = set(routes) - {*PATHS, "mix"}
    if unknown or args.requests < 1:
        parser.error(f"routes are ping, depth and mix; requests at least 1 ({unknown})")
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    subprocess.run(  # noqa: S603 - fixed argv
        ["bash", "scripts/prod-prepare.sh"],  # noqa: S607 - bash from PATH
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"one gunicorn worker under callgrind, commit {commit}")
    print("| route | requests | instructions a request |")
    print("| --- | ---: | ---: |")
    for route in routes:
        base = _worker_instructions(route, 0)
        loaded = _worker_instructions(route, args.requests)
        each = (loaded - base) / args.requests
        print(f"| {route} | {args.requests} | {each:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
