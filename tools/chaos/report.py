"""The chaos run's summary: what was sent, what clients were told, how the service
behaved in each fault window, and which invariants held. Markdown, printed and
written between markers in docs/reliability.md."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

from tools.chaos.checks import Check
from tools.chaos.client import ACCEPTED, REFUSED, UNKNOWN, Record

START, END = "<!-- chaos:start -->", "<!-- chaos:end -->"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def in_window(records: list[Record], begin: float, end: float) -> list[Record]:
    return [r for r in records if begin <= r.t0 < end]


def window_row(name: str, records: list[Record], begin: float, end: float) -> str:
    chosen = in_window(records, begin, end)
    answered = [r for r in chosen if r.status]
    ok = sum(1 for r in chosen if r.outcome != UNKNOWN)
    fivexx = sum(1 for r in chosen if r.status >= 500)
    dropped = sum(1 for r in chosen if r.outcome == UNKNOWN and not r.status)
    placed = sum(1 for r in chosen if r.kind == "place" and r.outcome == ACCEPTED)
    reads = sum(1 for r in chosen if r.kind == "read" and r.outcome == ACCEPTED)
    latencies = [r.latency * 1000 for r in answered]
    share = f"{100 * ok / len(chosen):.1f} %" if chosen else "-"
    return (
        f"| {name} | {begin:.0f}-{end:.0f} s | {len(chosen)} | {share} | "
        f"{placed} | {reads} | {fivexx} | {dropped} | "
        f"{percentile(latencies, 0.5):.0f} | {percentile(latencies, 0.99):.0f} | "
        f"{max(latencies, default=0):.0f} |"
    )


def requests_table(records: list[Record]) -> list[str]:
    lines = [
        "| requests | sent | accepted | refused | unknown outcome |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    kinds = ("place", "dup", "cancel", "read", "probe")
    titles = {
        "place": "orders placed",
        "dup": "duplicate pairs (2 requests each)",
        "cancel": "cancels",
        "read": "reads",
        "probe": "book-sync probes (after the load)",
    }
    for kind in kinds:
        chosen = [r for r in records if r.kind == kind]
        if not chosen:
            continue
        count = Counter(r.outcome for r in chosen)
        lines.append(
            f"| {titles[kind]} | {len(chosen)} | {count[ACCEPTED]} | "
            f"{count[REFUSED]} | {count[UNKNOWN]} |"
        )
    count = Counter(r.outcome for r in records)
    lines.append(
        f"| **all** | {len(records)} | {count[ACCEPTED]} | {count[REFUSED]} | "
        f"{count[UNKNOWN]} |"
    )
    return lines


def refusals_table(records: list[Record]) -> list[str]:
    reasons = Counter((r.kind, r.code, r.msg) for r in records if r.outcome == REFUSED)
    lines = ["| refused | code | reason | count |", "| --- | ---: | --- | ---: |"]
    for (kind, code, msg), n in sorted(reasons.items(), key=lambda i: -i[1]):
        lines.append(f"| {kind} | {code} | {msg} | {n} |")
    return lines


def errors_table(records: list[Record]) -> list[str]:
    kinds = Counter((r.kind == "read", r.error) for r in records if r.error)
    lines = [
        "| unknown outcome | requests | of which writes |",
        "| --- | ---: | ---: |",
    ]
    totals = Counter()
    writes = Counter()
    for (is_read, error), n in kinds.items():
        totals[error] += n
        if not is_read:
            writes[error] += n
    for error, n in sorted(totals.items(), key=lambda i: -i[1]):
        lines.append(f"| {error} | {n} | {writes[error]} |")
    if not totals:
        lines.append("| none | 0 | 0 |")
    return lines


def checks_table(checks: list[Check]) -> list[str]:
    lines = ["| invariant | result | detail |", "| --- | --- | --- |"]
    for check in checks:
        if check.skipped:
            detail = check.skipped
        elif check.problems:
            more = len(check.problems) - 3
            detail = "; ".join(check.problems[:3]) + (
                f"; and {more} more" if more > 0 else ""
            )
        else:
            detail = ", ".join(f"{k}: {v}" for k, v in check.figures.items())
        lines.append(f"| {check.name} | {check.verdict} | {detail} |")
    passed = sum(1 for c in checks if c.passed)
    lines.append(f"| **passed** | **{passed} of {len(checks)}** | |")
    return lines


def windows_table(records: list[Record], windows: list[tuple]) -> list[str]:
    lines = [
        "| window | run time | requests | answered | orders accepted | "
        "reads ok | 5xx | no answer | p50 ms | p99 ms | max ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, begin, end in windows:
        lines.append(window_row(name, records, begin, end))
    return lines


def write_docs(path: Path, text: str) -> None:
    current = path.read_text() if path.exists() else f"{START}\n{END}\n"
    if START not in current:
        current += f"\n{START}\n{END}\n"
    head, rest = current.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def server_log(path: Path, wall_origin: float) -> list[tuple[float, dict, int]]:
    """The server's JSON log lines as (run second, fields, bytes)."""
    lines = []
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return lines
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            fields = json.loads(line)
            stamp = datetime.strptime(fields["time"], "%Y-%m-%d %H:%M:%S,%f")
        except (ValueError, KeyError):
            continue
        lines.append((stamp.timestamp() - wall_origin, fields, len(line) + 1))
    return lines


def log_table(lines: list[tuple[float, dict, int]], windows: list[tuple]) -> list[str]:
    """What the server logged in each window: volume, stack traces, and how long
    its 503 answers took on the server side."""
    out = [
        "| window | log lines | log KB | stack traces | top logger | "
        "503s logged | server p50 ms | server max ms |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for name, begin, end in windows:
        chosen = [(f, n) for t, f, n in lines if begin <= t < end]
        loggers = Counter(f.get("logger", "") for f, _ in chosen)
        traces = sum(1 for f, _ in chosen if f.get("exc_info"))
        durations = [
            f["duration_ms"]
            for f, _ in chosen
            if f.get("logger") == "exchange.request" and f.get("status") == 503
        ]
        top = loggers.most_common(1)[0][0] if loggers else "-"
        out.append(
            f"| {name} | {len(chosen)} | {sum(n for _, n in chosen) / 1024:.0f} | "
            f"{traces} | {top} | {len(durations)} | "
            f"{percentile(durations, 0.5):.0f} | {max(durations, default=0):.0f} |"
        )
    return out
