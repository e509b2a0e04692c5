"""The live side under load: many idle stream connections while orders trade, and
the time from a trade's commit to a client receiving it.

Against a running stack (``make serve-prod``: gunicorn on PORT, the live side on
STREAMS_PORT, PostgreSQL + Redis). Two API keys trade against each other through
REST at a steady rate, so each pair of orders is one trade; every connection
of ``--watchers`` (20) subscribes to ``<symbol>@trade`` and
``<symbol>@depth@100ms`` and records, for every trade event, now - T (T is the
trade's time, taken just before its commit, in ms); the other connections are
idle (subscribed to a quiet stream, answering pings), as most of a real
exchange's sockets are between events, and are held by a second process, as
they would be by other machines. The REST latency of the orders is measured twice:
with no stream connection open, then with all of them open.

With ``--mix RATE`` the bench's REST mix (tools/bench/locustfile.py: 50 traders,
half reads, half writes on the three symbols, keys from ``manage.py
bench_setup --users 52``: the mix's 50 traders take the first keys, the order
pairs the last two) runs at RATE requests/s through both phases too, and its
latencies are reported beside the orders'.

    .venv/bin/python -m tools.stream_bench --rest http://127.0.0.1:8000 \\
        --ws ws://127.0.0.1:8001 --keys var/bench-keys.json --connections 1000

``--keys`` is a JSON list of two {"apiKey", "secretKey"} of funded users (for
instance from ``manage.py create_api_key alice`` and ``bob``). Not a test: it
prints a table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

import aiohttp
import websockets

from tools.bench.mix import locust_command
from tools.binance_client import API_KEY_HEADER, signed_query


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def cpu_model() -> str:
    """The CPU model, as lscpu names it (from /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


class Trader:
    def __init__(self, session, base: str, key: dict) -> None:
        self.session, self.base, self.key = session, base, key

    async def order(self, **params) -> float:
        body = signed_query(self.key["secretKey"], params)
        started = time.perf_counter()
        async with self.session.post(
            f"{self.base}/api/v3/order",
            data=body,
            headers={
                API_KEY_HEADER: self.key["apiKey"],
                "Content-Type": "application/x-www-form-urlencoded",
            },
        ) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"order refused: {response.status}")
        return (time.perf_counter() - started) * 1000


async def trade_load(traders, symbol: str, rate: float, seconds: float) -> list[float]:
    """Pairs of crossing orders at ``rate`` orders/s; REST latencies in ms."""
    latencies: list[float] = []
    if not rate:
        await asyncio.sleep(seconds)
        return latencies
    pending: set[asyncio.Task] = set()
    interval = 2 / rate
    deadline = time.monotonic() + seconds
    step = 0
    next_at = time.monotonic()
    while time.monotonic() < deadline:
        price = 60000 + (step % 20)
        step += 1
        seller, buyer = traders[step % 2], traders[(step + 1) % 2]

        async def pair(seller=seller, buyer=buyer, price=price):
            common = dict(symbol=symbol, type="LIMIT", timeInForce="GTC")
            latencies.append(
                await seller.order(side="SELL", quantity="0.001", price=price, **common)
            )
            latencies.append(
                await buyer.order(side="BUY", quantity="0.001", price=price, **common)
            )

        task = asyncio.create_task(pair())
        pending.add(task)
        task.add_done_callback(pending.discard)
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    return latencies


ROOT = Path(__file__).resolve().parents[1]


def mix_start(args, seconds: float, name: str) -> subprocess.Popen:
    """locust with the bench's REST mix at ``args.mix`` requests/s."""
    out = ROOT / "var" / "stream-bench" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    argv, env = locust_command(
        rate=args.mix,
        users=args.mix_users,
        seconds=seconds,
        host=args.rest,
        csv=out,
        keys=Path(args.mix_keys).resolve(),
    )
    return subprocess.Popen(  # noqa: S603 - fixed argv
        argv,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def mix_result(process: subprocess.Popen, name: str) -> dict:
    """The mix's request count, failures, achieved rate, p50 and p99 (ms)."""
    await asyncio.to_thread(process.wait)
    path = ROOT / "var" / "stream-bench" / f"{name}_stats.csv"
    with open(path) as stats:
        total = next(r for r in csv.DictReader(stats) if r["Name"] == "Aggregated")
    return {
        "n": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "rate": float(total["Requests/s"]),
        "p50": float(total["50%"]),
        "p99": float(total["99%"]),
    }


async def phase(traders, args, name: str) -> tuple[list[float], dict | None]:
    """Order pairs for ``args.seconds``, with the REST mix alongside if asked."""
    mix = mix_start(args, args.seconds, name) if args.mix else None
    latencies = await trade_load(traders, args.symbol, args.rate, args.seconds)
    return latencies, (await mix_result(mix, name) if mix else None)


async def listener(url: str, sample: list[float] | None, stop: asyncio.Event) -> None:
    async with websockets.connect(url, max_queue=None, open_timeout=30) as ws:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 1)
            except TimeoutError:
                continue
            if sample is not None and '"e":"trade"' in raw:
                event = json.loads(raw)["data"]
                sample.append(time.time() * 1000 - event["T"])


def idle_clients(url: str, count: int, ready, stop) -> None:
    """``count`` idle connections in a process of their own, as they would be on
    other machines: the once-a-second burst they receive must not queue the
    watchers' events in the measuring process. Puts the number that failed on
    ``ready`` once they are open, then holds them until ``stop`` is set. At the
    lowest CPU priority, so that on one machine they take what the server leaves."""

    # Other machines' clients take no CPU from the server: here they yield it.
    os.nice(19)

    async def hold() -> None:
        done = asyncio.Event()
        tasks = []
        for index in range(count):
            tasks.append(asyncio.create_task(listener(url, None, done)))
            if index % 50 == 49:
                await asyncio.sleep(0.05)
        await asyncio.sleep(2)
        ready.put(sum(1 for t in tasks if t.done() and t.exception() is not None))
        await asyncio.to_thread(stop.wait)
        done.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(hold())


async def main(args) -> None:
    keys = json.load(open(args.keys))
    symbol = args.symbol.lower()
    busy = f"{args.ws}/stream?streams={symbol}@trade/{symbol}@depth@100ms"
    idle = f"{args.ws}/ws/{args.idle_stream}"
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=64)
    ) as session:
        # With the mix, its traders take the first keys; the pairs, the last two.
        if args.mix and len(keys) < args.mix_users + 2:
            raise SystemExit(f"--mix needs {args.mix_users + 2} keys in {args.keys}")
        traders = [Trader(session, args.rest, key) for key in keys[-2:]]
        await trade_load(traders, args.symbol, args.rate, 3)  # warm-up
        if args.mix:  # the workers' books, statements and key caches
            await mix_result(mix_start(args, 10, "warmup"), "warmup")
        quiet, quiet_mix = await phase(traders, args, "quiet")

        stop = asyncio.Event()
        latencies: list[float] = []
        opened = time.monotonic()
        spawn = multiprocessing.get_context("spawn")
        ready, idle_stop = spawn.Queue(), spawn.Event()
        idlers = spawn.Process(
            target=idle_clients,
            args=(idle, args.connections - args.watchers, ready, idle_stop),
        )
        idlers.start()
        tasks = [
            asyncio.create_task(listener(busy, latencies, stop))
            for _ in range(args.watchers)
        ]
        await asyncio.sleep(2)
        idle_failed = await asyncio.to_thread(ready.get)
        failed = idle_failed + sum(
            1 for t in tasks if t.done() and t.exception() is not None
        )
        open_seconds = time.monotonic() - opened
        loaded, loaded_mix = await phase(traders, args, "loaded")
        await asyncio.sleep(1)
        stop.set()
        idle_stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(idlers.join)

    print(f"machine: {cpu_model()}, {platform.python_version()}")
    print(
        f"{args.connections} connections ({failed} failed; {args.watchers} "
        f"watching trades and depth) opened in {open_seconds:.1f} s; orders at "
        f"{args.rate:.0f}/s for {args.seconds:.0f} s"
    )
    print("| measure | n | p50 ms | p99 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rows = [("commit to client (trade event)", latencies)]
    if args.rate:
        rows[:0] = [
            ("REST order, no stream connection", quiet),
            (f"REST order, {args.connections} connections open", loaded),
        ]
    for name, values in rows:
        print(
            f"| {name} | {len(values)} | {percentile(values, 50):.1f} | "
            f"{percentile(values, 99):.1f} | {max(values, default=float('nan')):.1f} |"
        )
    if latencies:
        print(f"mean commit to client: {statistics.fmean(latencies):.1f} ms")
    if quiet_mix and loaded_mix:
        print(f"\nREST mix offered at {args.mix:.0f} req/s ({args.mix_users} traders):")
        print("| phase | requests | failures | achieved req/s | p50 ms | p99 ms |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, mix in (
            ("no stream connection", quiet_mix),
            (f"{args.connections} connections open", loaded_mix),
        ):
            print(
                f"| {name} | {mix['n']} | {mix['failures']} | {mix['rate']:.1f} | "
                f"{mix['p50']:.0f} | {mix['p99']:.0f} |"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rest", default="http://127.0.0.1:8000")
    parser.add_argument("--ws", default="ws://127.0.0.1:8001")
    parser.add_argument("--keys", required=True)
    parser.add_argument("--symbol", default="BTCUSDT")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--watchers", type=int, default=20)
    # With --mix, ETHBTC trades every second or so: 980 kline messages a second.
    parser.add_argument("--idle-stream", default="ethbtc@kline_1d")
    # Two accounts: Binance's 100 orders per 10 s each allows 20 orders/s.
    # 0 with --mix: the mix's own crossing orders are the trades watched.
    parser.add_argument("--rate", type=float, default=16, help="orders per second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--mix", type=float, default=0, help="REST mix req/s alongside (0: none)"
    )
    parser.add_argument("--mix-users", type=int, default=50)
    parser.add_argument("--mix-keys", default="var/bench-keys.json")
    asyncio.run(main(parser.parse_args()))
