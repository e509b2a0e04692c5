"""Ceilings that make the bench's figures comparable across machines.

The machine changes under the project (one 2-core box ran CPython three times
slower per core than the next), so the bench prints, in the same run: the CPU
model and cores, a Python loop calibration (ns per empty ``for`` iteration), and
the served ceilings, requests/s with wrk at full load on one endpoint, of a bare
WSGI app (tools/bench/hello.py) under the exchange's own gunicorn settings, of
``/api/v3/ping`` and of ``/api/v3/depth``. ping as a share of the bare ceiling
is what the stack costs before any business logic.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

LOOP_ITERATIONS = 5_000_000
_WRK_RATE = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.MULTILINE)
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+([0-9]+)")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def loop_ns(repeat: int = 5) -> float:
    """Nanoseconds per iteration of an empty ``for`` loop, best of ``repeat``."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter_ns()
        for _ in range(LOOP_ITERATIONS):
            pass
        best = min(best, (time.perf_counter_ns() - started) / LOOP_ITERATIONS)
    return best


def wrk_rate(output: str) -> float | None:
    """Requests/s from wrk's report; None if any answer was not 2xx/3xx."""
    if _WRK_NON_2XX.search(output):
        return None
    found = _WRK_RATE.search(output)
    return float(found.group(1)) if found else None


def ceiling(url: str, seconds: int, connections: int = 20) -> float | None:
    result = subprocess.run(  # noqa: S603 - fixed argv
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url],  # noqa: S607
        capture_output=True,
        text=True,
    )
    return wrk_rate(result.stdout)


def measure(*, host: str, bare_host: str, seconds: int, rounds: int = 2) -> dict:
    """Alternate bare, ping and depth ``rounds`` times; each one's best."""
    targets = {
        "bare WSGI": f"{bare_host}/",
        "ping": f"{host}/api/v3/ping",
        "depth": f"{host}/api/v3/depth?symbol=BTCUSDT&limit=20",
    }
    best: dict[str, float | None] = dict.fromkeys(targets)
    for _ in range(rounds):
        for name, url in targets.items():
            rate = ceiling(url, seconds)
            if rate is not None:
                best[name] = max(best[name] or 0.0, rate)
    return best


def report(figures: dict, *, cores: int, loop: float) -> str:
    bare = figures.get("bare WSGI")
    lines = [
        f"CPU: {cpu_model()}, {cores} cores; Python loop calibration "
        f"{loop:.1f} ns per empty iteration.",
        "",
        "| served, wrk 20 connections | req/s | share of bare WSGI |",
        "| --- | ---: | ---: |",
    ]
    for name, rate in figures.items():
        share = f"{rate / bare:.0%}" if rate and bare else "-"
        lines.append(
            f"| {name} | {rate:,.0f} | {share} |"
            if rate
            else f"| {name} | failed | - |"
        )
    return "\n".join(lines)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None
