"""The live side under load: many idle stream connections while orders trade, and
the time from a trade's commit to a client receiving it.

Against a running stack (``make serve-prod``: gunicorn on PORT, the live side on
STREAMS_PORT, PostgreSQL + Redis). Two API keys trade against each other through
REST at a steady rate, so each pair of orders is one trade; every connection
of ``--watchers`` (20) subscribes to ``<symbol>@trade`` and
``<symbol>@depth@100ms`` and records, for every trade event, now - T (T is the
trade's time, taken just before its commit, in ms); the other connections are
idle (subscribed to a quiet stream, answering pings), as most of a real
exchange's sockets are between events. The REST latency of the orders is measured twice:
with no stream connection open, then with all of them open.

    .venv/bin/python -m tools.stream_bench --rest http://127.0.0.1:8000 \\
        --ws ws://127.0.0.1:8001 --keys var/bench-keys.json --connections 1000

``--keys`` is a JSON list of two {"apiKey", "secretKey"} of funded users (for
instance from ``manage.py create_api_key alice`` and ``bob``). Not a test: it
prints a table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time

import aiohttp
import websockets

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


async def main(args) -> None:
    keys = json.load(open(args.keys))
    symbol = args.symbol.lower()
    busy = f"{args.ws}/stream?streams={symbol}@trade/{symbol}@depth@100ms"
    idle = f"{args.ws}/ws/ethbtc@kline_1d"
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=64)
    ) as session:
        traders = [Trader(session, args.rest, key) for key in keys[:2]]
        await trade_load(traders, args.symbol, args.rate, 3)  # warm-up
        quiet = await trade_load(traders, args.symbol, args.rate, args.seconds)

        stop = asyncio.Event()
        latencies: list[float] = []
        tasks = []
        opened = time.monotonic()
        for index in range(args.connections):
            watcher = index < args.watchers
            url = busy if watcher else idle
            sample = latencies if watcher else None
            tasks.append(asyncio.create_task(listener(url, sample, stop)))
            if index % 50 == 49:
                await asyncio.sleep(0.05)
        await asyncio.sleep(2)
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        open_seconds = time.monotonic() - opened
        loaded = await trade_load(traders, args.symbol, args.rate, args.seconds)
        await asyncio.sleep(1)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    print(f"machine: {cpu_model()}, {platform.python_version()}")
    print(
        f"{args.connections} connections ({len(failed)} failed; {args.watchers} "
        f"watching trades and depth) opened in {open_seconds:.1f} s; orders at "
        f"{args.rate:.0f}/s for {args.seconds:.0f} s"
    )
    print("| measure | n | p50 ms | p99 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, values in (
        ("REST order, no stream connection", quiet),
        (f"REST order, {args.connections} connections open", loaded),
        ("commit to client (trade event)", latencies),
    ):
        print(
            f"| {name} | {len(values)} | {percentile(values, 50):.1f} | "
            f"{percentile(values, 99):.1f} | {max(values, default=float('nan')):.1f} |"
        )
    if latencies:
        print(f"mean commit to client: {statistics.fmean(latencies):.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rest", default="http://127.0.0.1:8000")
    parser.add_argument("--ws", default="ws://127.0.0.1:8001")
    parser.add_argument("--keys", required=True)
    parser.add_argument("--symbol", default="BTCUSDT")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--watchers", type=int, default=20)
    # Two accounts: Binance's 100 orders per 10 s each allows 20 orders/s.
    parser.add_argument("--rate", type=float, default=16, help="orders per second")
    parser.add_argument("--seconds", type=float, default=20)
    asyncio.run(main(parser.parse_args()))
