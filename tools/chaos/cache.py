"""Watching the recent-trades lists the exchange keeps in Redis, during the run.

``GET /api/v3/trades`` answers from a per-symbol list in Redis when it holds
enough trades. Trade ids are consecutive per symbol, so the list, newest first,
must be too: a hole means a trade that clients asking for recent trades will
never see, until a thousand newer ones push it out. Holes appear only while
faults happen (a worker killed between its commit and its cache write, writes
skipped while Redis is or was down) and may be pushed out before the run ends,
so the lists are read every second while the load runs.
"""

from __future__ import annotations

import json
import threading

import redis

from tools.chaos.checks import Check
from tools.chaos.client import Clock, Connection

# The key the cache API makes of "md:trades:<symbol>": prefix, version, key.
KEY = "{prefix}:1:md:trades:{symbol}"


def holes(ids_newest_first: list[int]) -> list[int]:
    """Trade ids missing from a list that should be consecutive."""
    missing = []
    for newer, older in zip(ids_newest_first, ids_newest_first[1:], strict=False):
        if newer - older > 1:
            missing.extend(range(older + 1, newer))
    return missing


class TradesWatcher(threading.Thread):
    def __init__(
        self,
        *,
        port: int,
        http_port: int,
        prefix: str,
        symbols: list[str],
        clock: Clock,
        until: float,
        stop: threading.Event,
        every: float = 1.0,
    ) -> None:
        super().__init__(name="trades-watcher", daemon=True)
        self.client = redis.Redis(
            host="127.0.0.1", port=port, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self.keys = {s: KEY.format(prefix=prefix, symbol=s) for s in symbols}
        self.clock = clock
        self.until = until
        self.stop = stop
        self.every = every
        self.http = Connection(http_port, timeout=10)
        self.samples = 0
        self.longest = 0
        # (symbol, missing trade id) -> run second it was first seen
        self.found: dict[tuple[str, int], float] = {}
        # What GET /api/v3/trades answered when a hole was first seen.
        self.served: list[str] = []

    def run(self) -> None:
        for _ in range(int(self.until / self.every) + 10):
            if self.stop.wait(self.every) or self.clock.now() >= self.until:
                break
            self.sample()
        self.sample()
        self.http.close()

    def sample(self) -> None:
        for symbol, key in self.keys.items():
            try:
                raw = self.client.lrange(key, 0, -1)
            except Exception:  # noqa: BLE001 - Redis down: nothing to read
                return
            ids = [json.loads(item)["id"] for item in raw]
            self.samples += 1
            self.longest = max(self.longest, len(ids))
            new = [t for t in holes(ids) if (symbol, t) not in self.found]
            for trade_id in new:
                self.found[(symbol, trade_id)] = round(self.clock.now(), 1)
            if new and len(self.served) < 5:
                self.served.append(self._ask(symbol, min(len(ids), 1000), new))

    def _ask(self, symbol: str, limit: int, missing: list[int]) -> str:
        """What a client asking for the recent trades is told right now."""
        path = f"/api/v3/trades?symbol={symbol}&limit={limit}"
        try:
            status, body = self.http.request("GET", path)
            served = {t["id"] for t in json.loads(body)} if status == 200 else set()
        except (OSError, ValueError) as exc:
            return f"{path}: {type(exc).__name__}"
        lacking = [t for t in missing if t not in served]
        said = f"without #{lacking[0]}" if lacking else "with them all"
        now = self.clock.now()
        return f"at {now:.1f} s {path} answered {len(served)} trades {said}"

    def check(self) -> Check:
        check = Check("recent trades cached in Redis have no hole")
        check.figures = {"samples": self.samples, "longest list": self.longest}
        if not self.samples or not self.longest:
            check.skipped = "no recent-trades list was ever found in Redis"
        by_symbol: dict[str, list] = {}
        for (symbol, trade_id), seen in sorted(self.found.items()):
            by_symbol.setdefault(symbol, []).append((trade_id, seen))
        for symbol, missing in by_symbol.items():
            shown = ", ".join(f"#{t} (seen at {s} s)" for t, s in missing[:4])
            check.problems.append(
                f"{symbol}: {len(missing)} trade(s) missing from the list: {shown}"
            )
        if check.problems:
            check.problems += self.served
        return check
