"""Chaos run: the production-like stack under load while things break.

Starts its own PostgreSQL (port 55432), Redis (56379) and gunicorn (8800, three
workers) under var/chaos, never the shared ones. Sends a steady mixed load of
signed orders and reads from many traders on every symbol, and meanwhile:
SIGKILLs a random gunicorn worker every few seconds, stops Redis for 30 s,
stops and restarts PostgreSQL once, and sends orders twice with one
``newClientOrderId``. Then checks, with the load stopped: ``reconcile`` clean;
every asset conserved to the last unit; no negative balance; no over-fill; every
order a client was told was accepted exists and none it was told was refused
does; each worker's books equal the database; fast Binance-shaped 503s while
the database was down, working reads and writes while Redis was, recovery
without a restart. Prints a summary (``--write-docs``: into docs/reliability.md)
and exits 1 if any invariant failed. Everything it started is stopped at the
end, even on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass

import psycopg

from tools.chaos import books as chaos_books
from tools.chaos import cache as chaos_cache
from tools.chaos import checks
from tools.chaos.checks import Check
from tools.chaos.client import ACCEPTED, UNKNOWN, Clock, Connection, Record
from tools.chaos.faults import Outages, Timeline, WorkerKiller
from tools.chaos.load import SYMBOLS, Account, ClientIds, Duplicator, Sink, Trader
from tools.chaos.report import (
    checks_table,
    errors_table,
    in_window,
    log_table,
    percentile,
    refusals_table,
    requests_table,
    server_log,
    windows_table,
    write_docs,
)
from tools.chaos.stack import ROOT, WORK, Stack

DOC = ROOT / "docs" / "reliability.md"
FAULTS = ("kills", "redis", "postgres", "duplicates")


@dataclass(frozen=True, slots=True)
class Plan:
    """When each fault happens, in run seconds."""

    duration: float
    kill_every: float
    kill_from: float
    kill_until: float
    redis_at: float
    redis_down: float
    pg_at: float
    pg_down: float

    @classmethod
    def from_args(cls, args) -> Plan:
        duration = args.duration
        quiet = max(12.0, 0.1 * duration)  # the last stretch has no fault at all
        redis_down = args.redis_down if "redis" in args.faults else 0.0
        redis_at = max(5.0, 0.15 * duration)
        pg_at = max(0.55 * duration, redis_at + redis_down + 5)
        plan = cls(
            duration=duration,
            kill_every=args.kill_every if "kills" in args.faults else 0.0,
            kill_from=3.0,
            kill_until=duration - quiet,
            redis_at=redis_at,
            redis_down=redis_down,
            pg_at=pg_at if "postgres" in args.faults else -1.0,
            pg_down=args.pg_down,
        )
        if plan.pg_at >= 0 and pg_at + args.pg_down + 8 > duration - quiet:
            raise SystemExit(
                f"{duration:.0f} s is too short for a {args.redis_down:.0f} s Redis "
                f"outage and a {args.pg_down:.0f} s PostgreSQL outage: use a longer "
                "--duration or shorter outages"
            )
        return plan


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


def wait_ready(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            url = f"http://127.0.0.1:{port}/readyz"
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


# --- checks of the faults' windows ------------------------------------------------


def shape_check(records: list[Record]) -> Check:
    """Never a 500, never a body that is not Binance's ``{"code", "msg"}``."""
    check = Check("no 500, every error answer in Binance's shape")
    bad = [
        r
        for r in records
        if r.status == 500 or r.error.endswith(("not JSON", "not Binance-shaped"))
    ]
    for r in bad[: checks.SHOWN]:
        check.problems.append(f"{r.kind} {r.name} at {r.t0:.1f} s: {r.error}")
    if len(bad) > checks.SHOWN:
        check.problems.append(f"{len(bad)} in all")
    return check


def redis_check(records: list[Record], window: tuple[float, float] | None) -> Check:
    check = Check("Redis down: reads and writes keep working")
    if window is None:
        check.skipped = "no Redis outage in this run"
        return check
    chosen = in_window(records, *window)
    reads = sum(1 for r in chosen if r.kind == "read" and r.outcome == ACCEPTED)
    placed = sum(1 for r in chosen if r.kind == "place" and r.outcome == ACCEPTED)
    fivexx = [r for r in chosen if r.status >= 500]
    timeouts = [r for r in chosen if r.error == "timeout"]
    latencies = [r.latency * 1000 for r in chosen if r.status]
    check.figures = {
        "requests": len(chosen),
        "reads ok": reads,
        "orders accepted": placed,
        "p99 ms": round(percentile(latencies, 0.99)),
    }
    if not reads or not placed:
        check.problems.append(f"{reads} reads and {placed} orders succeeded")
    if fivexx:
        statuses = sorted({f"{r.status} {r.kind} {r.name}" for r in fivexx})
        check.problems.append(f"{len(fivexx)} 5xx: {', '.join(statuses[:5])}")
    if timeouts:
        check.problems.append(f"{len(timeouts)} timeouts")
    return check


def postgres_check(
    records: list[Record],
    window: tuple[float, float] | None,
    fast: float,
    server_503_ms: list[float] | None,
) -> Check:
    """Every 5xx while PostgreSQL was down is Binance's 503 -1001, none hangs (no
    client timeout), and the server produced each within ``fast`` seconds.

    The client's latency also counts the wait behind other requests on the same
    single-threaded worker, so "fast" is judged on the server's own timing of
    each 503 (its request log); the client's figures are reported beside it."""
    check = Check("PostgreSQL down: fast 503s in Binance's shape")
    if window is None:
        check.skipped = "no PostgreSQL outage in this run"
        return check
    chosen = in_window(records, *window)
    unavailable = [r for r in chosen if r.status == 503 and r.code == -1001]
    other_5xx = [r for r in chosen if r.status >= 500 and r not in unavailable]
    timeouts = [r for r in chosen if r.error == "timeout"]
    latencies = [r.latency * 1000 for r in unavailable]
    check.figures = {
        "requests": len(chosen),
        "503 -1001": len(unavailable),
        "client p50/max ms": f"{percentile(latencies, 0.5):.0f}/"
        f"{max(latencies, default=0):.0f}",
    }
    if not unavailable:
        check.skipped = (
            f"no request met the outage ({len(chosen)} sent in it): not exercised"
        )
    if other_5xx:
        kinds = sorted({f"{r.status} {r.code}" for r in other_5xx})
        check.problems.append(f"{len(other_5xx)} other 5xx: {', '.join(kinds)}")
    if timeouts:
        check.problems.append(f"{len(timeouts)} requests timed out")
    if server_503_ms is None:
        check.problems.append("no server log to time the 503s by")
        return check
    check.figures["server p50/max ms"] = (
        f"{percentile(server_503_ms, 0.5):.0f}/{max(server_503_ms, default=0):.0f}"
    )
    slow = [ms for ms in server_503_ms if ms > fast * 1000]
    if slow:
        check.problems.append(
            f"{len(slow)} 503s took the server over {fast:.1f} s "
            f"(slowest {max(slow) / 1000:.1f} s)"
        )
    return check


def recovery_check(
    records: list[Record],
    timeline: Timeline,
    begin: float,
    end: float,
    master_same: bool,
) -> Check:
    """After the last fault: every request answered, no 5xx, no restart."""
    check = Check("recovered by itself, without a restart")
    chosen = in_window(records, begin, end)
    failed = [r for r in chosen if r.outcome == UNKNOWN]
    back = timeline.times("postgresql started")
    if back:
        first = min(
            (
                r.t1
                for r in records
                if r.kind == "place" and r.outcome == ACCEPTED and r.t0 >= back[0]
            ),
            default=None,
        )
        check.figures["first order accepted after PostgreSQL"] = (
            f"{first - back[0]:.2f} s" if first is not None else "never"
        )
    check.figures["requests in the quiet stretch"] = len(chosen)
    if not chosen:
        check.problems.append("no request in the quiet stretch")
    for r in failed[:5]:
        check.problems.append(f"{r.kind} {r.name} at {r.t0:.1f} s: {r.error}")
    if len(failed) > 5:
        check.problems.append(f"{len(failed)} failed requests in all")
    if not master_same:
        check.problems.append("the gunicorn master is not the one started")
    return check


# --- end checks ---------------------------------------------------------------------


def books_check(stack: Stack, db, clock: Clock, probe: dict) -> tuple[Check, list]:
    check = Check("every worker's book equals the database")
    probe_prices = {symbol: str(mid) for symbol, (mid, *_rest) in SYMBOLS.items()}
    workers = stack.worker_pids()
    books, problems, probes = chaos_books.collect(
        port=stack.http_port,
        probe=probe,
        symbols=probe_prices,
        workers=workers,
        clock=clock,
    )
    if books is None:
        check.skipped = "GET /internal/books is absent (404): not checked"
        return check, probes
    seqs, open_orders = checks.database_books(db)
    check.problems += problems
    for pid, body in sorted(books.items()):
        for symbol in sorted(seqs):
            check.problems += checks.book_problems(
                pid,
                symbol,
                body["books"].get(symbol),
                seqs[symbol],
                open_orders[symbol],
            )
    check.figures = {
        "workers": len(books),
        "open orders": sum(len(o) for o in open_orders.values()),
    }
    return check, probes


def market_data_check(stack: Stack, db) -> Check:
    """Depth and recent trades, as served (from Redis, or the database fallback),
    equal what the database holds once the load has stopped."""
    check = Check("market data served equals the database")
    base = f"http://127.0.0.1:{stack.http_port}/api/v3"
    seqs, _ = checks.database_books(db)
    for symbol in SYMBOLS:
        with urllib.request.urlopen(  # noqa: S310 - loopback only
            f"{base}/depth?symbol={symbol}&limit=100", timeout=10
        ) as response:
            depth = json.loads(response.read())
        want = checks.database_depth(db, symbol, 100)
        if depth["lastUpdateId"] != seqs[symbol]:
            check.problems.append(
                f"{symbol} depth: lastUpdateId {depth['lastUpdateId']}, "
                f"book_seq {seqs[symbol]}"
            )
        for side in ("bids", "asks"):
            if depth[side] != want[side]:
                check.problems.append(f"{symbol} depth {side} differ from the orders")
        for limit in (100, 500, 1000):
            with urllib.request.urlopen(  # noqa: S310 - loopback only
                f"{base}/trades?symbol={symbol}&limit={limit}", timeout=10
            ) as response:
                served = [t["id"] for t in json.loads(response.read())]
            stored = checks.database_trade_ids(db, symbol, limit)
            if served != stored:
                gaps = sorted(set(stored) - set(served))
                check.problems.append(
                    f"{symbol} trades limit={limit}: {len(served)} served, "
                    f"{len(gaps)} of the last {len(stored)} missing"
                    + (f" (e.g. #{gaps[0]})" if gaps else "")
                )
    return check


def reconcile_check(stack: Stack) -> Check:
    check = Check("manage.py reconcile clean")
    result = stack.manage("reconcile", check=False)
    lines = result.stdout.splitlines()
    check.figures = {"checks": sum(1 for line in lines if line.startswith("ok "))}
    if result.returncode != 0:
        check.problems = [
            line.strip() for line in lines if not line.startswith("ok ")
        ] or [result.stderr.strip()[-300:]]
    return check


# --- the run ------------------------------------------------------------------------


def run_load(stack: Stack, plan: Plan, args, clock: Clock, timeline: Timeline):
    accounts = [
        Account(n, key["apiKey"], key["secretKey"])
        for n, key in enumerate(stack.keys())
    ]
    sink = Sink()
    ids = ClientIds(secrets.token_hex(3))
    stop = threading.Event()
    per_trader = args.rate / len(accounts)
    threads: list[threading.Thread] = [
        Trader(
            account,
            port=stack.http_port,
            rate=per_trader,
            until=plan.duration,
            clock=clock,
            sink=sink,
            ids=ids,
            stop=stop,
            seed=args.seed * 1000 + account.index,
            timeout=args.timeout,
        )
        for account in accounts
    ]
    duplicator = Duplicator(
        accounts,
        port=stack.http_port,
        every=args.dup_every,
        until=plan.duration,
        clock=clock,
        sink=sink,
        ids=ids,
        stop=stop,
        seed=args.seed,
        timeout=args.timeout,
    )
    killer = WorkerKiller(
        stack,
        timeline,
        every=plan.kill_every,
        start=plan.kill_from,
        end=plan.kill_until,
        stop=stop,
        seed=args.seed,
    )
    outages = Outages(
        stack,
        timeline,
        redis_at=plan.redis_at,
        redis_down=plan.redis_down,
        pg_at=plan.pg_at,
        pg_down=plan.pg_down,
        stop=stop,
    )
    if "duplicates" in args.faults:
        threads.append(duplicator)
    if plan.kill_every > 0:
        threads.append(killer)
    threads.append(outages)
    watcher = chaos_cache.TradesWatcher(
        port=stack.redis_port,
        http_port=stack.http_port,
        prefix=stack.env["CACHE_KEY_PREFIX"],
        symbols=list(SYMBOLS),
        clock=clock,
        until=plan.duration,
        stop=stop,
    )
    threads.append(watcher)
    timeline.add("load started", f"{args.rate} req/s from {len(accounts)} traders")
    for thread in threads:
        thread.start()
    try:
        next_note = 30.0
        deadline = plan.duration + 2 * args.timeout + 30
        while any(t.is_alive() for t in threads) and clock.now() < deadline:
            time.sleep(0.5)
            if clock.now() >= next_note:
                done = len(sink.records)
                log(f"{clock.now():.0f} s: {done} requests, {killer.kills} kills")
                next_note += 30.0
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=args.timeout + 5)
    timeline.add("load stopped")
    if outages.failure is not None:
        log(f"a fault could not be injected: {outages.failure!r}")
    return sink.records, killer.kills, outages, watcher


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.chaos", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="60 s, 15 s of Redis")
    parser.add_argument("--duration", type=float, default=240.0, help="seconds")
    parser.add_argument("--users", type=int, default=60, help="at least 50")
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kill-every", type=float, default=6.0, help="0: no kills")
    parser.add_argument("--redis-down", type=float, default=30.0, help="seconds")
    parser.add_argument("--pg-down", type=float, default=5.0, help="0: a restart")
    parser.add_argument("--dup-every", type=float, default=0.4, help="seconds")
    parser.add_argument("--timeout", type=float, default=15.0, help="per request")
    parser.add_argument(
        "--fast", type=float, default=2.0, help="a fast 503 (server side), in s"
    )
    parser.add_argument(
        "--faults",
        default=",".join(FAULTS),
        help=f"comma list of {', '.join(FAULTS)}, or none (to calibrate the load)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--http-port", type=int, default=8800)
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--redis-port", type=int, default=56379)
    parser.add_argument("--keep-data", action="store_true", help="keep var/chaos/pg")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    args.faults = {f.strip() for f in args.faults.split(",") if f.strip()} - {"none"}
    if args.faults - set(FAULTS):
        raise SystemExit(f"unknown faults: {', '.join(args.faults - set(FAULTS))}")
    if args.quick:
        args.duration = 60.0
        args.redis_down = min(args.redis_down, 15.0)
    if args.users < 1 or args.rate <= 0:
        raise SystemExit("--users and --rate must be positive")
    plan = Plan.from_args(args)
    given = [a for a in sys.argv[1:] if a != "--write-docs"]
    if os.environ.get("MAKELEVEL"):
        command = "make chaos" + (f" CHAOS_ARGS='{' '.join(given)}'" if given else "")
    else:
        command = " ".join([".venv/bin/python -m tools.chaos", *given])

    def terminate(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    stack = Stack(
        pg_port=args.pg_port,
        redis_port=args.redis_port,
        http_port=args.http_port,
        workers=args.workers,
        users=args.users,
        log=log,
    )
    try:
        stack.start()
        master = stack.master_pid()
        clock = Clock()
        timeline = Timeline(clock)
        log(
            f"load: {args.rate:.0f} req/s from {args.users} traders for "
            f"{plan.duration:.0f} s; kill a worker every ~{plan.kill_every:.0f} s; "
            f"Redis down at {plan.redis_at:.0f} s for {plan.redis_down:.0f} s; "
            f"PostgreSQL down at {plan.pg_at:.0f} s for {plan.pg_down:.0f} s"
        )
        records, kills, outages, watcher = run_load(stack, plan, args, clock, timeline)
        # Whatever the faults did, the stack is whole again before the checks.
        if not stack.redis_ping():
            stack.redis_start()
        if not stack.pg_running():
            stack.pg_start()
        if not wait_ready(stack.http_port, 60):
            log("the service is not ready a minute after the load")
        log("load over; checking")
        report, failed = finish(
            stack, args, plan, records, kills, timeline, master, watcher
        )
        report = f"`{command}`, {report}"
        print()
        print(report)
        if args.write_docs and args.quick:
            log("a quick run is not written to the docs")
        elif args.write_docs:
            write_docs(DOC, report)
            log(f"figures written to {DOC.relative_to(ROOT)}")
        if outages.failure is not None:
            log("a fault could not be injected: the run does not count")
            return 1
        return 1 if failed else 0
    finally:
        log("tearing down the chaos stack")
        stack.stop(keep_data=args.keep_data)


def guarded(name: str, check) -> Check:
    """Run one check; if the check itself breaks (the server answered a 500, a
    query failed), that is a failure of the run, reported, not a crash."""
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - reported as the check's failure
        return Check(name, problems=[f"the check could not run: {exc!r}"[:300]])


def finish(
    stack, args, plan, records, kills, timeline, master, watcher
) -> tuple[str, bool]:
    master_same = stack.master_pid() == master
    redis_window = timeline.window("redis stopped", "redis started")
    pg_window = timeline.window("postgresql stopping", "postgresql started")
    kill_times = timeline.times("worker killed")
    faults_end = max(
        [plan.kill_until, (pg_window or (0, 0))[1], (redis_window or (0, 0))[1]]
        + kill_times
    )
    quiet = (faults_end + 3.0, plan.duration)

    log_lines = server_log(WORK / "gunicorn.log", timeline.clock.wall_origin)
    server_503_ms = None
    if log_lines and pg_window:
        server_503_ms = [
            fields["duration_ms"]
            for t, fields, _ in log_lines
            if pg_window[0] <= t < pg_window[1] + 2 * args.timeout
            and fields.get("logger") == "exchange.request"
            and fields.get("status") == 503
        ]
    probes: list[Record] = []

    def books() -> Check:
        check, found = books_check(stack, db, timeline.clock, stack.probe_key())
        probes.extend(found)
        return check

    with psycopg.connect(stack.dsn, autocommit=True) as db:
        by_cid = checks.orders_by_client_id(db)
        by_id = checks.orders_by_id(db)
        results = [
            guarded("every worker's book equals the database", books),
            guarded("manage.py reconcile clean", lambda: reconcile_check(stack)),
            guarded("conservation", lambda: checks.conservation_check(db)),
            guarded("no negative balance", lambda: checks.negative_check(db)),
            guarded("no over-fill", lambda: checks.overfill_check(db)),
            guarded("fills equal trades", lambda: checks.fills_check(db)),
            checks.placements_check(records, by_cid),
            checks.duplicates_check(records, by_cid),
            checks.cancels_check(records, by_id, by_cid),
            guarded("market data", lambda: market_data_check(stack, db)),
            watcher.check(),
            shape_check(records),
            redis_check(records, redis_window),
            postgres_check(records, pg_window, args.fast, server_503_ms),
            recovery_check(records, timeline, *quiet, master_same),
        ]
    all_records = records + probes
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / "requests.jsonl", "w") as out:
        for record in all_records:
            out.write(json.dumps(record.as_dict()) + "\n")
    (WORK / "timeline.json").write_text(
        json.dumps([[e.t, e.what, e.detail] for e in timeline.events], indent=1)
    )

    windows = [("whole run", 0.0, plan.duration)]
    outages = timeline.times("redis stopping") + timeline.times("postgresql stopping")
    steady_end = min(outages, default=plan.duration)
    windows.append(("before any outage (kills only)", plan.kill_from, steady_end))
    if redis_window:
        windows.append(("Redis down", *redis_window))
    if pg_window:
        windows.append(("PostgreSQL down", *pg_window))
        windows.append(("PostgreSQL back, first 10 s", pg_window[1], pg_window[1] + 10))
    windows.append(("quiet stretch (no fault)", *quiet))

    commit = stack.commit
    sent = len(records)
    faults = []
    if kills:
        faults.append(
            f"{kills} workers SIGKILLed (every ~{plan.kill_every:.0f} s from "
            f"{plan.kill_from:.0f} s to {plan.kill_until:.0f} s)"
        )
    if redis_window:
        faults.append(f"Redis stopped at {_at(redis_window)}")
    if pg_window:
        how = (
            "`pg_ctl stop -m fast`, then `pg_ctl start`"
            if plan.pg_down > 0
            else ("`pg_ctl restart -m fast`")
        )
        faults.append(f"PostgreSQL stopped at {_at(pg_window)} ({how})")
    if "duplicates" in args.faults:
        pairs = len({r.pair for r in records if r.kind == "dup"})
        faults.append(f"{pairs} duplicate pairs (one every {args.dup_every} s)")
    lines = [
        f"{time.strftime('%Y-%m-%d %H:%M')}, commit {commit}, {os.cpu_count()} cores "
        "shared by the load generator, gunicorn, PostgreSQL and Redis.",
        "",
        f"Load: {args.users} traders on {len(SYMBOLS)} symbols, {args.rate:.0f} "
        f"requests/s offered for {plan.duration:.0f} s, {sent / plan.duration:.0f}/s "
        f"achieved; {args.workers} gunicorn workers. Faults: "
        + ("; ".join(faults) or "none")
        + ". Keep-alive connections found closed and replaced before a request: "
        f"{Connection.dropped}.",
        "",
        *requests_table(all_records),
        "",
        *refusals_table(all_records),
        "",
        *errors_table(records),
        "",
        "Client side (latency from sending to the whole answer):",
        "",
        *windows_table(records, windows),
        "",
        "Server side (its log):",
        "",
        *log_table(log_lines, windows),
        "",
        *checks_table(results),
    ]
    failed = [c for c in results if not c.passed and not c.skipped]
    skipped = [c for c in results if c.skipped]
    verdict = "all invariants held" if not failed else f"{len(failed)} FAILED"
    if skipped:
        verdict += f" ({len(skipped)} skipped)"
    lines += ["", f"Result: {verdict}."]
    for check in failed:
        lines += ["", f"{check.name}:"] + [
            f"- {p}" for p in check.problems[: checks.SHOWN]
        ]
    return "\n".join(lines), bool(failed)


def _at(window: tuple[float, float] | None) -> str:
    if window is None:
        return "never"
    return f"{window[0]:.0f} s for {window[1] - window[0]:.1f} s"


if __name__ == "__main__":
    sys.exit(main())
