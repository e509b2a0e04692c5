"""Time (and optionally profile) the HTTP API in-process, without a network or a
load generator: the load test's request mix goes through the whole Django stack
(middleware, authentication, rate limits, views, services, PostgreSQL, Redis) one
request at a time, and each route's wall and CPU time per request is printed.

The figures say where a worker's time goes; `make bench` says what the served
stack sustains.
"""

from __future__ import annotations

import io
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

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

    def handle(self, *args, requests, users, seed, routes, profile, **options):
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
        app = application

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
            status = []
            body = b"".join(app(environ, lambda s, h: status.append(s)))
            return int(status[0][:3]), body

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
        cpu = defaultdict(float)
        count = defaultdict(int)
        statuses = defaultdict(lambda: defaultdict(int))
        backend_before = _backend_cpu()
        started_wall, started_cpu = time.perf_counter(), time.thread_time()
        for _ in range(requests):
            name = rng.choices(names, weights)[0]
            w0, c0 = time.perf_counter(), time.thread_time()
            name, status = one(name)
            wall[name] += time.perf_counter() - w0
            cpu[name] += time.thread_time() - c0
            count[name] += 1
            statuses[name][status] += 1
        total_wall = time.perf_counter() - started_wall
        total_cpu = time.thread_time() - started_cpu
        backend_after = _backend_cpu()
        if profiler is not None:
            profiler.stop()
            Path(profile).write_text(
                profiler.output_text(unicode=False, color=False, show_all=False)
            )

        out = self.stdout.write
        out(f"{requests:,} requests in-process, one at a time")
        out("| route | requests | wall ms | CPU ms | statuses |")
        out("| --- | ---: | ---: | ---: | --- |")
        for name, _ in MIX:
            if count[name]:
                seen = ", ".join(f"{s}: {n}" for s, n in sorted(statuses[name].items()))
                out(
                    f"| {name} | {count[name]} | {wall[name] / count[name] * 1000:.2f} "
                    f"| {cpu[name] / count[name] * 1000:.2f} | {seen} |"
                )
        out(
            f"| all | {requests} | {total_wall / requests * 1000:.2f} | "
            f"{total_cpu / requests * 1000:.2f} | |"
        )
        out(f"{requests / total_wall:,.0f} requests/s from one thread")
        if backend_before is not None and backend_after is not None:
            out(
                "database server CPU (this session's backend): "
                f"{(backend_after - backend_before) / requests * 1000:.2f} ms a request"
            )


def _backend_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend, when it runs on this
    machine (None elsewhere, or on another database)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
