"""The locust run of the REST mix (tools/bench/locustfile.py), as make bench and
the stream bench both start it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def locust_command(
    *, rate: float, users: int, seconds: float, host: str, csv: Path, keys: Path
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of a headless locust run of the mix at ``rate``
    requests/s in all, ``users`` traders, writing its figures to ``csv``_*.csv."""
    env = {
        **os.environ,
        "BENCH_RATE": str(rate),
        "BENCH_USERS": str(users),
        "BENCH_KEYS": str(keys),
        # The locustfile imports the shared signing client (tools.binance_client).
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
        ),
    }
    argv = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(Path(__file__).with_name("locustfile.py")),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds:.0f}s",
        "--host",
        host,
        "--csv",
        str(csv),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    return argv, env
