"""Load-test the production-like stack at steady rates and print one table.

Usage: python -m tools.bench [--rates 500,750] [--no-serve] [--write-docs]

Starts `make serve-prod` (gunicorn on PostgreSQL + Redis), creates funded traders
with API keys, then runs locust headless at a constant offered rate for each step
(500 requests/s, then 750, 1000, ...) until a step misses: p99 over 100 ms,
a failed request, or less than 95% of the offered rate achieved (each simulated
trader waits for its answer, so a saturated server slows the load down instead
of failing it).
Prints target rate, achieved rate, p50, p95, p99, failures and the CPU used by the
server side (gunicorn, PostgreSQL, Redis) and by locust; with --write-docs the same
table goes into docs/performance.md. Ends with `manage.py reconcile`.

Before the steps, in the same run (tools/bench/ceilings.py): the CPU model, a
Python loop calibration, and the served ceilings with wrk of a bare WSGI app
under the same gunicorn settings, of /api/v3/ping and of /api/v3/depth.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tools.bench import ceilings
from tools.bench.analyze import Analyzer
from tools.bench.mix import locust_command

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv" / "bin"
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def prod_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("var/prod.env", "var/prod-settings.env"):
        for line in (ROOT / name).read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                env[key] = value
    return env


SERVER_PROCESSES = ("gunicorn", "postgres", "redis-server")


def cpu_seconds(names: tuple[str, ...] = SERVER_PROCESSES) -> dict[str, float]:
    """CPU time (user + system) of the processes whose command matches each of
    ``names``, by name, with that of their children that have exited: a
    PostgreSQL backend that ends during a step leaves its time with the
    postmaster, so a step's difference never goes negative."""
    totals = dict.fromkeys(names, 0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (
                (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            )
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        name = next((n for n in names if n in comm or n in cmdline), None)
        if name is not None:
            fields = text[text.rindex(")") + 2 :].split()
            totals[name] += sum(int(ticks) for ticks in fields[11:15])
    return {name: ticks / CLOCK_TICKS for name, ticks in totals.items()}


HELD_SHARE = 0.95  # of the offered rate, achieved, for a step to count as held


def missed(result: dict) -> str | None:
    """Why a step missed, or None when it held."""
    if result["failures"]:
        return f"{result['failures']} requests failed"
    if result["p99"] > 100:
        return f"p99 {result['p99']:.0f} ms"
    if result["achieved"] < HELD_SHARE * result["target"]:
        share = result["achieved"] / result["target"]
        return f"{result['achieved']} req/s achieved, {share:.0%} of the offered rate"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(url: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"server not ready at {url}")


def run_step(rate: int, args, host: str) -> dict:
    out = ROOT / "var" / "bench" / f"r{rate}"
    out.parent.mkdir(parents=True, exist_ok=True)
    argv, env = locust_command(
        rate=rate,
        users=args.users,
        seconds=args.duration,
        host=host,
        csv=out,
        keys=ROOT / "var" / "bench-keys.json",
    )
    server_before = cpu_seconds()
    started = time.time()
    children_before = os.times()
    locust = subprocess.run(  # noqa: S603 - fixed argv
        argv,
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.time() - started
    server_after = cpu_seconds()
    server_cpu = {n: server_after[n] - server_before[n] for n in server_after}
    children = os.times()
    locust_cpu = (children.children_user - children_before.children_user) + (
        children.children_system - children_before.children_system
    )
    rows = list(csv.DictReader(open(f"{out}_stats.csv")))  # noqa: SIM115
    total = next(r for r in rows if r["Name"] == "Aggregated")
    requests = int(total["Request Count"])
    failures = int(total["Failure Count"])
    return {
        "target": rate,
        "achieved": round(requests / args.duration, 1),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "p99": float(total["99%"]),
        "failures": failures,
        "requests": requests,
        "server_cpu": round(sum(server_cpu.values()) / wall, 2),
        "server_split": " / ".join(
            f"{server_cpu[n] / wall:.2f}" for n in SERVER_PROCESSES
        ),
        "locust_cpu": round(locust_cpu / wall, 2),
        "locust_rc": locust.returncode,
        "stderr": locust.stderr[-2000:],
    }


def table(results: list[dict]) -> str:
    lines = [
        "| target req/s | achieved req/s | p50 ms | p95 ms | p99 ms | failures | "
        "server CPU (cores) | gunicorn / PostgreSQL / Redis | locust CPU (cores) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['target']} | {r['achieved']} | {r['p50']:.0f} | {r['p95']:.0f} | "
            f"{r['p99']:.0f} | {r['failures']} | {r['server_cpu']} | "
            f"{r['server_split']} | "
            f"{r['locust_cpu']} |"
        )
    return "\n".join(lines)


def write_docs(text: str) -> None:
    current = DOC.read_text() if DOC.exists() else f"# Performance\n\n{START}\n{END}\n"
    if START not in current:
        current += f"\n{START}\n{END}\n"
    head, rest = current.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def ceilings_run(args, host: str, env: dict) -> str:
    """Calibration and served ceilings (tools/bench/ceilings.py), printed."""
    loop = ceilings.loop_ns()
    figures: dict = {}
    if args.ceiling_seconds and ceilings.wrk_available():
        # Not PORT + 1: serve-prod's live side (uvicorn) listens there.
        bare_port = free_port()
        bare = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                str(VENV / "gunicorn"),
                "--config",
                "gunicorn.conf.py",
                "tools.bench.hello:app",
            ],
            cwd=ROOT,
            env={**env, "PORT": str(bare_port)},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(f"http://127.0.0.1:{bare_port}/")
            figures = ceilings.measure(
                host=host,
                bare_host=f"http://127.0.0.1:{bare_port}",
                seconds=args.ceiling_seconds,
            )
        finally:
            os.killpg(bare.pid, signal.SIGTERM)
            bare.wait(timeout=30)
    text = ceilings.report(figures, cores=os.cpu_count() or 1, loop=loop)
    if not figures:
        why = (
            "--ceiling-seconds 0"
            if not args.ceiling_seconds
            else "wrk is not installed"
        )
        text += f"\n\n(no served ceilings: {why})"
    print(text, flush=True)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rates", default="500,750,1000,1250,1500,2000")
    parser.add_argument("--duration", type=int, default=60, help="seconds per step")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--no-serve", action="store_true", help="use a running server")
    parser.add_argument(
        "--warmup",
        type=int,
        default=20,
        help="seconds of load at the first rate before measuring, not recorded",
    )
    parser.add_argument(
        "--ceiling-seconds",
        type=int,
        default=10,
        help="seconds of wrk per ceiling measurement (0: none)",
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    host = f"http://127.0.0.1:{args.port}"

    server = None
    (ROOT / "var").mkdir(exist_ok=True)
    if not args.no_serve:
        # Every simulated trader connects from 127.0.0.1, so the per-IP weight limit
        # (and the per-account order limits) are raised for the run; they are still
        # counted in Redis as in production.
        limits = {
            "RATE_LIMIT_WEIGHT_PER_MINUTE": "100000000",
            "RATE_LIMIT_ORDERS_PER_10S": "100000",
        }
        server = subprocess.Popen(  # noqa: S603 - fixed argv
            ["make", "serve-prod"],  # noqa: S607 - make from PATH, as a person runs it
            cwd=ROOT,
            env={**os.environ, **limits, "PORT": str(args.port)},
            start_new_session=True,
            stdout=open(ROOT / "var" / "bench-server.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(f"{host}/readyz")
        env = prod_env()
        subprocess.run(  # noqa: S603 - fixed argv
            [
                str(VENV / "python"),
                "manage.py",
                "bench_setup",
                "--users",
                str(args.users),
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        calibration = ceilings_run(args, host, env)
        analyzer = Analyzer(env["DATABASE_URL"])
        if analyzer.start():
            print(
                "autovacuum is off on this PostgreSQL: the bench does its work "
                f"by its rules, checking every {analyzer.interval:.0f} s",
                flush=True,
            )
        else:
            analyzer = None
        rates = [int(r) for r in args.rates.split(",")]
        if args.warmup:
            # The steps measure a steady state. A fresh server's first seconds
            # (each worker's books, prepared statements and key cache filling)
            # ran several times slower and were most of a first step's p99;
            # that cold start is reported in docs/performance.md, not mixed in.
            run_step(
                rates[0],
                argparse.Namespace(**{**vars(args), "duration": args.warmup}),
                host,
            )
        results = []
        stopped = (
            f"Every step held (at least {HELD_SHARE:.0%} of the offered rate "
            "achieved, p99 under 100 ms, no failures)."
        )
        for rate in rates:
            result = run_step(rate, args, host)
            results.append(result)
            print(table(results[-1:]).splitlines()[-1], flush=True)
            if result["locust_rc"] not in (0, 1):
                print(result["stderr"], file=sys.stderr)
            reason = missed(result)
            if reason is not None:
                stopped = f"The {rate} step missed ({reason}); the bench stops there."
                break
        if analyzer is not None:
            analyzer.stop()
            calibration += "\n\n" + analyzer.note() + "."
        commit = subprocess.run(  # noqa: S603 - fixed argv
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        reconcile = subprocess.run(  # noqa: S603 - fixed argv
            [str(VENV / "python"), "manage.py", "reconcile"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        report = "\n".join(
            [
                f"`make bench` on {os.cpu_count()} cores, commit {commit}, "
                f"{time.strftime('%Y-%m-%d')}: locust ({args.users} users, constant "
                f"rate, {args.duration} s per step after {args.warmup} s of warm-up) "
                "and the server on the same machine.",
                "",
                calibration,
                "",
                table(results),
                "",
                stopped,
                "",
                "reconcile after the run: "
                + ("clean" if reconcile.returncode == 0 else "MISMATCHES (see below)"),
            ]
        )
        print()
        print(report)
        if reconcile.returncode != 0:
            print(reconcile.stdout)
        if args.write_docs:
            write_docs(report)
        return 0 if reconcile.returncode == 0 else 1
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
