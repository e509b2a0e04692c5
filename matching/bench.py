"""Throughput and latency benchmark of the matching engine on a synthetic stream.

Run ``python -m matching.bench [--deep | --stops] [--commands N] [--seed S]
[--repeat R]``, or call ``run_bench`` and ``format_report`` from code. The stream is
one symbol around a mid of 60000.00 with a tick of 0.01 (6,000,000 ticks), every
price within 0.5% of the mid, quantities of 1..100 lots:

* ~70% LIMIT GTC orders: half crossing (the opposite best plus 0..20 ticks), half
  passive (1 + an exponential of mean 150 ticks behind the mid, never crossing);
  with ``deep`` only 30% cross, so the book grows deep;
* ~20% cancels, each of an order resting (or, with stops, pending) at that moment;
* ~10% MARKET orders of 1..50 lots;
* with ``stops``, a tenth of the limit orders are stop orders instead: STOP_LOSS,
  STOP_LOSS_LIMIT, TAKE_PROFIT and TAKE_PROFIT_LIMIT of either side, a stop price
  2..200 ticks from the last trade in the direction that does not trigger at
  once, one in four trailing (5..40 BIPS, half of them without a stop price).
  They fire, trade and rest during the replay like any order.

The stream is generated, with a separate book to know what rests, before any
timing. Each command is stored as the plain arguments of ``OrderBook.place`` (or an
int, an order id to cancel), and the timed loop makes the call from them, which is
all a caller builds: the figure includes what a command costs to construct.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence

from matching.contract import Triggered
from matching.engine import (
    BUY,
    GTC,
    LIMIT,
    MARKET,
    SELL,
    STOP_LOSS,
    STOP_LOSS_LIMIT,
    TAKE_PROFIT,
    TAKE_PROFIT_LIMIT,
    OrderBook,
)
from matching.triggers import fires_up

MID = 6_000_000
BAND = MID * 5 // 1000
LOW = MID - BAND
HIGH = MID + BAND
OWNERS = 1_000
WARMUP = 100_000

# The arguments of OrderBook.place, or an order id to cancel.
Command = tuple | int

_STOP_TYPES = (STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT)


def generate_stream(
    n: int, seed: int, deep: bool = False, stops: bool = False
) -> list[Command]:
    """``n`` commands: a tuple of ``place`` arguments, or an ``int`` to cancel."""
    rng = random.Random(seed)
    book = OrderBook()
    cross_share = 0.3 if deep else 0.5
    stream: list[Command] = []
    live: list[int] = []  # may hold ids done since; checked when drawn
    next_id = 1
    for _ in range(n):
        draw = rng.random()
        if draw < 0.2 and (len(book) or book.pending_count()):
            while True:
                i = rng.randrange(len(live))
                order_id = live[i]
                live[i] = live[-1]
                live.pop()
                if order_id in book or book.is_pending(order_id):
                    break
            book.cancel(order_id)
            stream.append(order_id)
            continue
        side = BUY if rng.random() < 0.5 else SELL
        owner = rng.randrange(1, OWNERS + 1)
        last = book.last_price
        if draw < 0.3:
            cmd: tuple = (next_id, owner, side, MARKET, GTC, 0, rng.randint(1, 50))
        elif stops and draw < 0.37 and last is not None:
            cmd = _stop_command(rng, next_id, owner, side, last)
        else:
            best_bid, best_ask = book.best_bid(), book.best_ask()
            if rng.random() < cross_share:
                offset = rng.randint(0, 20)
                if side == BUY:
                    price = (best_ask if best_ask is not None else MID) + offset
                else:
                    price = (best_bid if best_bid is not None else MID) - offset
            else:
                distance = 1 + int(rng.expovariate(1 / 150))
                if side == BUY:
                    price = MID - distance
                    if best_ask is not None:
                        price = min(price, best_ask - 1)
                else:
                    price = MID + distance
                    if best_bid is not None:
                        price = max(price, best_bid + 1)
            price = min(max(price, LOW), HIGH)
            qty = rng.randint(1, 100)
            cmd = (next_id, owner, side, LIMIT, GTC, price, qty)
        result = book.place(*cmd)
        if result.remaining or (result.status == "NEW" and len(cmd) > 7):
            live.append(next_id)
        for event in result.events:
            priority = getattr(event, "priority", 0)
            if priority:
                next_id = max(next_id, priority)
                if event.result.remaining:
                    live.append(event.order_id)
        next_id += 1
        stream.append(cmd)
    return stream


def _stop_command(
    rng: random.Random, order_id: int, owner: int, side: str, last: int
) -> tuple:
    """A stop order that does not trigger at once against ``last``."""
    order_type = rng.choice(_STOP_TYPES)
    distance = rng.randint(2, 200)
    stop = last + distance if fires_up(order_type, side) else last - distance
    delta = 0
    if rng.random() < 0.25:
        delta = rng.randint(5, 40)
        if rng.random() < 0.5:
            stop = 0
    price = 0
    if order_type in (STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT):
        # A limit a little through the trigger, so most of them trade.
        slack = rng.randint(0, 30)
        base = stop or last
        price = base + slack if side == BUY else base - slack
        price = min(max(price, LOW), HIGH)
    qty = rng.randint(1, 100)
    return (order_id, owner, side, order_type, GTC, price, qty, 0, "NONE", stop, delta)


def replay(book: OrderBook, stream: Sequence[Command]) -> None:
    """Apply every command of ``stream`` to ``book``; this is what gets timed."""
    place = book.place
    cancel = book.cancel
    for cmd in stream:
        if cmd.__class__ is int:
            cancel(cmd)
        else:
            place(*cmd)  # type: ignore[misc]  # not an int: a tuple


def _latencies(
    stream: Sequence[Command],
) -> tuple[list[int], int, int, OrderBook]:
    book = OrderBook()
    place = book.place
    cancel = book.cancel
    clock = time.perf_counter_ns
    samples: list[int] = []
    record = samples.append
    fills = 0
    triggered = 0
    for cmd in stream:
        if cmd.__class__ is int:
            start = clock()
            cancel(cmd)
            record(clock() - start)
        else:
            start = clock()
            result = place(*cmd)  # type: ignore[misc]  # not an int: a tuple
            record(clock() - start)
            fills += len(result.fills)
            for event in result.events:
                if event.__class__ is Triggered:
                    triggered += 1
                    fills += len(event.result.fills)
    return samples, fills, triggered, book


def loop_calibration() -> float:
    """Nanoseconds per iteration of an empty ``for`` loop, best of five: the unit
    that makes the throughput comparable across machines."""
    clock = time.perf_counter_ns
    best = float("inf")
    for _ in range(5):
        start = clock()
        for _ in range(2_000_000):
            pass
        best = min(best, (clock() - start) / 2_000_000)
    return best


def cpu_model() -> str:
    """The processor's model name and the number of CPUs, as Linux reports them."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            names = [
                line.split(":", 1)[1].strip()
                for line in info
                if line.startswith("model name")
            ]
    except OSError:
        names = []
    model = names[0] if names else "unknown processor"
    return f"{model}, {os.cpu_count()} CPUs"


def _timer_overhead() -> int:
    clock = time.perf_counter_ns
    best = 1 << 62
    for _ in range(10_000):
        start = clock()
        best = min(best, clock() - start)
    return best


def _gc_meter(meter: list[int]):
    clock = time.perf_counter_ns

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            meter[2] = clock()
        else:
            meter[0] += 1
            meter[1] += clock() - meter[2]

    return callback


def _percentile(ordered: list[int], share: float) -> int:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def run_bench(
    n: int = 1_000_000,
    seed: int = 20240601,
    deep: bool = False,
    repeat: int = 3,
    stops: bool = False,
) -> dict:
    """Generate a stream, time it, and return the figures as a plain dict.

    Throughput is the best and the median of ``repeat`` timed replays on fresh
    books after a warm-up replay, with the garbage collector on (the stream itself
    is frozen out of its reach) and its share of the best run measured; the same
    runs also give a rate per CPU second, which a busy machine disturbs less. Latency
    comes from a separate pass that times each command on its own with
    ``perf_counter_ns``; peak memory from a third pass under ``tracemalloc`` (the
    stream itself is allocated before tracing).
    """
    started = time.perf_counter()
    calibration = loop_calibration()
    stream = generate_stream(n, seed, deep, stops)
    generated = time.perf_counter() - started

    # The stream is the harness's data, not the engine's: keep the collector from
    # walking its million objects on every full collection, as it would not in a
    # server that receives commands one at a time.
    gc.collect()
    gc.freeze()
    gc_time = [0, 0, 0]  # collections, ns spent, start of the current one
    gc.callbacks.append(_gc_meter(gc_time))
    try:
        replay(OrderBook(), stream[:WARMUP])
        runs = []
        for _ in range(max(1, repeat)):
            book = OrderBook()
            gc.collect()
            gc_time[0] = gc_time[1] = 0
            cpu = time.process_time_ns()
            start = time.perf_counter_ns()
            replay(book, stream)
            elapsed = time.perf_counter_ns() - start
            cpu = time.process_time_ns() - cpu
            runs.append(
                (
                    len(stream) * 1e9 / elapsed,
                    gc_time[0],
                    gc_time[1] / elapsed,
                    len(stream) * 1e9 / max(cpu, 1),
                )
            )
        rates = [run[0] for run in runs]
        best = max(runs)

        samples, fills, triggered, book = _latencies(stream)
        samples.sort()
        bid_levels, ask_levels = book.level_count()

        gc.collect()
        tracemalloc.start()
        replay(OrderBook(), stream)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        gc.callbacks.pop()
        gc.unfreeze()

    return {
        "commands": len(stream),
        "seed": seed,
        "deep": deep,
        "stops": stops,
        "cpu": cpu_model(),
        "loop_ns": calibration,
        "python": sys.version.split()[0],
        "generate_s": round(generated, 2),
        "commands_per_s_best": int(max(rates)),
        "commands_per_s_median": int(statistics.median(rates)),
        "commands_per_cpu_s_best": int(max(run[3] for run in runs)),
        "repeats": len(rates),
        "gc_collections": best[1],
        "gc_share": round(best[2], 3),
        "latency_p50_us": _percentile(samples, 0.50) / 1000,
        "latency_p99_us": _percentile(samples, 0.99) / 1000,
        "latency_p999_us": _percentile(samples, 0.999) / 1000,
        "latency_max_us": samples[-1] / 1000,
        "timer_overhead_us": _timer_overhead() / 1000,
        "peak_traced_mib": round(peak / 2**20, 1),
        "max_rss_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
        "fills": fills,
        "triggered": triggered,
        "pending_stops": book.pending_count(),
        "resting_orders": len(book),
        "bid_levels": bid_levels,
        "ask_levels": ask_levels,
        "best_bid": book.best_bid(),
        "best_ask": book.best_ask(),
    }


def format_report(figures: dict) -> str:
    """A short human-readable report of ``run_bench`` figures."""
    f = figures
    stream = "deep" if f["deep"] else "stops" if f["stops"] else "standard"
    per_loop = f["commands_per_s_best"] * f["loop_ns"] / 1e9
    return "\n".join(
        [
            f"matching engine, {stream} stream: {f['commands']:,} commands, "
            f"seed {f['seed']}, CPython {f['python']}",
            f"  machine        {f['cpu']}; an empty Python loop iteration takes "
            f"{f['loop_ns']:.2f} ns",
            f"  throughput     {f['commands_per_s_best']:,} commands/s best of "
            f"{f['repeats']} (median {f['commands_per_s_median']:,}; "
            f"{f['commands_per_cpu_s_best']:,} per CPU second), command built "
            f"in the loop; one command costs {1 / per_loop:.0f} empty loop "
            f"iterations",
            f"  collector      {f['gc_collections']} garbage collections took "
            f"{f['gc_share']:.1%} of the best run",
            f"  latency        p50 {f['latency_p50_us']:.2f} us, "
            f"p99 {f['latency_p99_us']:.2f} us, p99.9 {f['latency_p999_us']:.2f} us, "
            f"max {f['latency_max_us']:.0f} us (each command timed alone, "
            f"timer overhead {f['timer_overhead_us']:.2f} us included)",
            f"  memory         peak traced {f['peak_traced_mib']} MiB during a replay "
            f"(stream excluded), max RSS {f['max_rss_mib']} MiB",
            f"  at the end     {f['fills']:,} fills, {f['resting_orders']:,} resting "
            f"orders on {f['bid_levels']:,} bid + {f['ask_levels']:,} ask levels, "
            f"best {f['best_bid']} / {f['best_ask']}; {f['triggered']:,} stops "
            f"triggered, {f['pending_stops']:,} pending",
            f"  (stream generated in {f['generate_s']} s, outside the timings)",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m matching.bench", description=__doc__.split("\n\n")[0]
    )
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--deep", action="store_true", help="30%% crossing limits")
    kind.add_argument("--stops", action="store_true", help="stop orders too")
    parser.add_argument("--commands", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    figures = run_bench(
        args.commands, args.seed, args.deep, args.repeat, stops=args.stops
    )
    print(format_report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
