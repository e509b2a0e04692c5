"""Time (and optionally profile) the HTTP API in-process, without a network or a
load generator: the load test's request mix goes through the whole Django stack
(middleware, authentication, rate limits, views, services, PostgreSQL, Redis) one
request at a time, and each route's wall and CPU time per request is printed.

With ``--served URL`` the same mix goes, one request at a time on one keep-alive
connection, to a server already running at URL (``make serve-prod`` with the
rate limits lifted, as ``make bench`` does), and each route's figures are the CPU
that the server's processes (those listening on URL's port), PostgreSQL's and
Redis's spent on it: what a request costs the machine that serves it, HTTP server
included, which the in-process figures leave out.

The figures say where a worker's time goes; `make bench` says what the served
stack sustains.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from pyinstrument import Profiler

# What gunicorn serves: the /api/v3 front, then Django (exchange/wsgi.py).
from exchange.wsgi import application
from tools.binance_client import signed_query

# The load test's mix (tools/bench/locustfile.py): (name, weight).
MIX = [
    ("order passive", 18),
    ("order crossing", 12),
    ("cancel", 16),
    ("order market", 4),
    ("depth", 14),
    ("ticker/24hr", 8),
    ("trades", 8),
    ("klines", 6),
    ("openOrders", 7),
    ("account", 7),
]
SYMBOLS = {
    "BTCUSDT": (60000, "0.01", 2, "0.0001"),
    "ETHUSDT": (3000, "0.01", 2, "0.001"),
    "ETHBTC": (0.05, "0.00001", 5, "0.01"),
}


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0]

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=3000)
        parser.add_argument("--users", type=int, default=10)
        parser.add_argument("--seed", type=int, default=11)
        parser.add_argument(
            "--routes",
            help="comma-separated routes of the mix to send (default: all of it, "
            f"weighted): {', '.join(name for name, _ in MIX)}",
        )
        parser.add_argument(
            "--profile",
            metavar="FILE",
            help="profile the run with pyinstrument and write its text report here",
        )
        parser.add_argument(
            "--served",
            metavar="URL",
            help="send the mix to the server running at URL instead of in-process, "
            "and report the CPU its processes, PostgreSQL and Redis spent per route",
        )

    def handle(self, *args, requests, users, seed, routes, profile, served, **options):
        if served and profile:
            raise CommandError("--profile profiles this process: not with --served")
        if served:
            send = _Served(served)
            meter = send.meter
        else:
            send, meter = _in_process, _InProcessMeter()
        mix = MIX
        if routes:
            wanted = [name.strip() for name in routes.split(",")]
            unknown = set(wanted) - {name for name, _ in MIX}
            if unknown:
                raise CommandError(f"unknown routes: {', '.join(sorted(unknown))}")
            mix = [(name, weight) for name, weight in MIX if name in wanted]
        keys_file = Path("var/profile-keys.json")
        call_command(
            "bench_setup", users=users, out=str(keys_file), stdout=io.StringIO()
        )
        keys = json.loads(keys_file.read_text())

        rng = random.Random(seed)
        resting: list[tuple[str, int, dict]] = []
        names = [n for n, _ in mix]
        weights = [w for _, w in mix]

        def call(method, path, params, account=None):
            query = urlencode(params)
            headers = {}
            if account is not None:
                query = signed_query(account["secretKey"], params, recv_window=10000)
                headers["HTTP_X_MBX_APIKEY"] = account["apiKey"]
            environ = {
                "REQUEST_METHOD": method,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "8000",
                "REMOTE_ADDR": "127.0.0.1",
                "HTTP_HOST": "127.0.0.1",
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(b""),
                "wsgi.errors": sys.stderr,
                **headers,
            }
            return send(environ)

        def order(account, symbol, side, **params):
            return call(
                "POST",
                "/api/v3/order",
                {"symbol": symbol, "side": side, **params},
                account,
            )

        def one(name):
            account = rng.choice(keys)
            symbol = rng.choice(list(SYMBOLS))
            mid, tick, places, step = SYMBOLS[symbol]
            side = rng.choice(["BUY", "SELL"])
            qty = f"{rng.randint(1, 40) * float(step):.6f}"
            if name == "cancel" and not resting:
                name = "order passive"
            if name == "order passive":
                offset = 1 + int(rng.expovariate(1 / 30))
                ticks = -offset if side == "BUY" else offset
                price = f"{mid + ticks * float(tick):.{places}f}"
                status, body = order(
                    account,
                    symbol,
                    side,
                    type="LIMIT",
                    timeInForce="GTC",
                    quantity=qty,
                    price=price,
                    newOrderRespType="ACK",
                )
                if status == 200:
                    resting.append((symbol, json.loads(body)["orderId"], account))
            elif name == "order crossing":
                reach = rng.randint(0, 40)
                ticks = reach if side == "BUY" else -reach
                price = f"{mid + ticks * float(tick):.{places}f}"
                status, _ = order(
                    account,
                    symbol,
                    side,
                    type="LIMIT",
                    timeInForce="IOC",
                    quantity=qty,
                    price=price,
                )
            elif name == "order market":
                status, _ = order(account, symbol, side, type="MARKET", quantity=qty)
            elif name == "cancel":
                symbol, order_id, account = resting.pop(rng.randrange(len(resting)))
                status, _ = call(
                    "DELETE",
                    "/api/v3/order",
                    {"symbol": symbol, "orderId": order_id},
                    account,
                )
            elif name == "depth":
                status, _ = call(
                    "GET", "/api/v3/depth", {"symbol": symbol, "limit": 20}
                )
            elif name == "ticker/24hr":
                status, _ = call("GET", "/api/v3/ticker/24hr", {"symbol": symbol})
            elif name == "trades":
                status, _ = call(
                    "GET", "/api/v3/trades", {"symbol": symbol, "limit": 50}
                )
            elif name == "klines":
                status, _ = call(
                    "GET",
                    "/api/v3/klines",
                    {"symbol": symbol, "interval": "1m", "limit": 60},
                )
            elif name == "openOrders":
                status, _ = call(
                    "GET", "/api/v3/openOrders", {"symbol": symbol}, account
                )
            else:
                status, _ = call("GET", "/api/v3/account", {}, account)
            return name, status

        for _ in range(200):  # warm-up: connections, prepared statements, caches
            one(rng.choices(names, weights)[0])

        profiler = None
        if profile:
            profiler = Profiler(interval=0.0005)
            profiler.start()
        wall = defaultdict(float)
        cost = defaultdict(lambda: [0.0] * len(meter.columns))
        count = defaultdict(int)
        statuses = defaultdict(lambda: defaultdict(int))
        backend_before = None if served else _backend_cpu()
        started_wall, started = time.perf_counter(), meter.read()
        for _ in range(requests):
            name = rng.choices(names, weights)[0]
            w0, before = time.perf_counter(), meter.read()
            name, status = one(name)
            wall[name] += time.perf_counter() - w0
            for i, spent in enumerate(meter.spent(meter.read(), before)):
                cost[name][i] += spent
            count[name] += 1
            statuses[name][status] += 1
        total_wall = time.perf_counter() - started_wall
        total = meter.spent(meter.read(), started)
        backend_after = None if served else _backend_cpu()
        if profiler is not None:
            profiler.stop()
            Path(profile).write_text(
                profiler.output_text(unicode=False, color=False, show_all=False)
            )

        out = self.stdout.write
        where = f"served by {served}" if served else "in-process"
        out(f"{requests:,} requests {where}, one at a time")
        out(f"| route | requests | wall ms | {' | '.join(meter.columns)} | statuses |")
        out(
            f"| --- | ---: | ---: | {' | '.join('---:' for _ in meter.columns)} | --- |"
        )
        for name, _ in MIX:
            if count[name]:
                seen = ", ".join(f"{s}: {n}" for s, n in sorted(statuses[name].items()))
                each = " | ".join(f"{c / count[name] * 1000:.2f}" for c in cost[name])
                out(
                    f"| {name} | {count[name]} | {wall[name] / count[name] * 1000:.2f} "
                    f"| {each} | {seen} |"
                )
        each = " | ".join(f"{c / requests * 1000:.2f}" for c in total)
        out(f"| all | {requests} | {total_wall / requests * 1000:.2f} | {each} | |")
        out(
            f"{requests / total_wall:,.0f} requests/s from one "
            + ("connection" if served else "thread")
        )
        if backend_before is not None and backend_after is not None:
            out(
                "database server CPU (this session's backend): "
                f"{(backend_after - backend_before) / requests * 1000:.2f} ms a request"
            )


def _in_process(environ) -> tuple[int, bytes]:
    """The answer of the WSGI application gunicorn serves, called here."""
    status = []
    body = b"".join(application(environ, lambda s, h: status.append(s)))
    return int(status[0][:3]), body


class _InProcessMeter:
    """This thread's CPU: the request's whole cost but the database's."""

    columns = ("CPU ms",)

    def read(self) -> tuple:
        return (time.thread_time(),)

    def spent(self, after: tuple, before: tuple) -> list[float]:
        return [after[0] - before[0]]


class _Served:
    """The requests sent to a running server, on one keep-alive connection."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        try:
            port = parts.port or 80
        except ValueError:  # a port that is not a number
            port = None
        if parts.scheme != "http" or not parts.hostname or port is None:
            raise CommandError(f"--served wants an http://host:port URL, not {url!r}")
        self.connection = http.client.HTTPConnection(parts.hostname, port, timeout=30)
        self.meter = _ProcessMeter(port)

    def __call__(self, environ) -> tuple[int, bytes]:
        headers = {}
        if "HTTP_X_MBX_APIKEY" in environ:
            headers["X-MBX-APIKEY"] = environ["HTTP_X_MBX_APIKEY"]
        target = f"{environ['PATH_INFO']}?{environ['QUERY_STRING']}"
        self.connection.request(environ["REQUEST_METHOD"], target, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.read()


class _ProcessMeter:
    """CPU seconds of the server (the processes listening on ``port`` and their
    children), of PostgreSQL and of Redis (each one's first process and its
    children, so that a connection opened meanwhile counts too), from the
    kernel's per-thread run times in nanoseconds, not /proc/PID/stat's 10 ms
    ticks. Requests go one at a time, so what the processes spent between two
    readings is the request's, give or take their idle timers."""

    def __init__(self, port: int) -> None:
        listening = _listening_on(port)
        if not listening:
            raise CommandError(f"no process of this machine listens on port {port}")
        groups = {
            "server CPU ms": _roots(listening),
            "PostgreSQL CPU ms": _roots(_named("postgres")),
            "Redis CPU ms": _roots(_named("redis-server")),
        }
        self.groups = {name: roots for name, roots in groups.items() if roots}
        self.columns = tuple(self.groups)

    def read(self) -> tuple[dict[int, float], ...]:
        """Per group, each live process's run time so far."""
        return tuple(
            {pid: _run_seconds(pid) for pid in _with_children(roots)}
            for roots in self.groups.values()
        )

    def spent(self, after: tuple, before: tuple) -> list[float]:
        # A process born in between started from nothing.
        return [
            sum(seconds - was.get(pid, 0.0) for pid, seconds in now.items())
            for now, was in zip(after, before, strict=True)
        ]


def _run_seconds(pid: int) -> float:
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
    except OSError:  # the process or a thread ended: it spends no more
        pass
    return total / 1e9


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command's name, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def _parent(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def _roots(pids: list[int]) -> list[int]:
    """Those of ``pids`` whose parent is not one of them."""
    found = set(pids)
    return [pid for pid in pids if _parent(pid) not in found]


def _with_children(roots: list[int]) -> list[int]:
    pids = list(roots)
    for root in roots:
        try:
            children = Path(f"/proc/{root}/task/{root}/children").read_text()
        except OSError:
            continue
        pids.extend(int(child) for child in children.split())
    return pids


def _processes() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _named(command: str) -> list[int]:
    found = []
    for pid in _processes():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == command:
                found.append(pid)
        except OSError:
            continue
    return found


def _listening_on(port: int) -> list[int]:
    """The processes holding a TCP socket that listens on ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local address "ADDR:PORT" in hex; state 0A is LISTEN
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                inodes.add(fields[9])
    return [pid for pid in _processes() if inodes & _socket_inodes(pid)]


def _socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets among a process's open files (those this user
    may read)."""
    found = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if link.startswith("socket:["):
            found.add(link[8:-1])
    return found


def _backend_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend, when it runs on this
    machine (None elsewhere, or on another database)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = _stat(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
