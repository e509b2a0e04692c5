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
they would be by other machines. The REST latency is measured in ``--rounds``
pairs of phases, one with no stream connection open and one with all of them
open, the order of the two alternating from round to round.

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
    """One connection until ``stop``: reads every frame (the server's pings are
    answered by the library); with ``sample``, records now - T of each trade."""
    async with websockets.connect(url, max_queue=None, open_timeout=30) as ws:
        reader = asyncio.ensure_future(_read(ws, sample))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({reader, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (reader, stopping):
            task.cancel()
        if reader.done() and not reader.cancelled() and reader.exception():
            raise reader.exception()


async def _read(ws, sample: list[float] | None) -> None:
    if sample is None:  # an idle client: frames are read, not decoded
        while True:
            await ws.recv(decode=False)
    while True:
        raw = await ws.recv()
        if '"e":"trade"' in raw:
            sample.append(time.time() * 1000 - json.loads(raw)["data"]["T"])


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


async def loaded_phase(traders, args, name: str, busy: str, idle: str) -> dict:
    """A phase with ``args.connections`` open: the watchers here, the idle ones in
    a process of their own; closed again after it."""
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
    orders, mix = await phase(traders, args, name)
    await asyncio.sleep(1)
    stop.set()
    idle_stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.to_thread(idlers.join)
    return {
        "loaded": orders,
        "loaded_mix": mix,
        "events": latencies,
        "failed": failed,
        "open_seconds": open_seconds,
    }


def _ms(values: list[float]) -> str:
    return (
        f"{percentile(values, 50):.1f} / {percentile(values, 99):.1f} / "
        f"{max(values, default=float('nan')):.1f}"
    )


async def main(args) -> None:
    keys = json.load(open(args.keys))
    symbol = args.symbol.lower()
    busy = f"{args.ws}/stream?streams={symbol}@trade/{symbol}@depth@100ms"
    idle = f"{args.ws}/ws/{args.idle_stream}"
    rounds = []
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
        for index in range(args.rounds):
            # Alternate which phase comes first, so that a drift of the machine
            # over a round does not always favour the same one.
            result: dict = {}
            for kind in ("quiet", "loaded") if index % 2 == 0 else ("loaded", "quiet"):
                name = f"{kind}{index}"
                if kind == "quiet":
                    result["quiet"], result["quiet_mix"] = await phase(
                        traders, args, name
                    )
                else:
                    result.update(await loaded_phase(traders, args, name, busy, idle))
            rounds.append(result)

    print(f"machine: {cpu_model()}, {platform.python_version()}")
    print(
        f"{args.connections} connections ({args.watchers} watching trades and depth), "
        f"orders at {args.rate:.0f}/s, REST mix at {args.mix:.0f} req/s, "
        f"{args.seconds:.0f} s per phase, {args.rounds} rounds"
    )
    print(
        "| round | opened in s (failed) | commit to client p50 / p99 / max ms | "
        "REST order p50 / p99, no sockets | with sockets | "
        "REST mix p50 / p99, no sockets | with sockets |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for index, r in enumerate(rounds, 1):
        orders = [
            f"{percentile(r[k], 50):.1f} / {percentile(r[k], 99):.1f}" if r[k] else "-"
            for k in ("quiet", "loaded")
        ]
        mixes = [
            f"{m['p50']:.0f} / {m['p99']:.0f}"
            + (f" ({m['failures']} failed)" if m["failures"] else "")
            if m
            else "-"
            for m in (r["quiet_mix"], r["loaded_mix"])
        ]
        print(
            f"| {index} | {r['open_seconds']:.1f} ({r['failed']}) | "
            f"{_ms(r['events'])} | {orders[0]} | {orders[1]} | "
            f"{mixes[0]} | {mixes[1]} |"
        )
    events = [v for r in rounds for v in r["events"]]
    print(
        f"\nall rounds, commit to client p50 / p99 / max: {_ms(events)} ms "
        f"({len(events)} events)"
    )
    if args.mix:
        quiet = [r["quiet_mix"]["p99"] for r in rounds]
        loaded = [r["loaded_mix"]["p99"] for r in rounds]
        print(
            f"REST mix p99, median of the rounds: {statistics.median(quiet):.0f} ms "
            f"with no socket, {statistics.median(loaded):.0f} ms with "
            f"{args.connections} open; rates achieved "
            + ", ".join(
                f"{r['quiet_mix']['rate']:.1f}/{r['loaded_mix']['rate']:.1f}"
                for r in rounds
            )
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
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="pairs of phases, without and with the connections, in turn",
    )
    asyncio.run(main(parser.parse_args()))
