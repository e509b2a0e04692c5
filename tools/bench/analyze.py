"""ANALYZE in the background while the bench runs, when the server has
autovacuum off.

Some test machines run PostgreSQL with autovacuum off. Their tables are then
never analyzed, and a run that starts on a fresh database keeps the plans its
prepared statements got when the tables were nearly empty: sequential scans
over tables that grow by thousands of rows a minute. A production database
analyzes them as they grow, and each ANALYZE makes the statements that read a
table plan again. The bench does what autovacuum would, so that it measures
the exchange rather than the machine's settings.
"""

from __future__ import annotations

import threading

import psycopg

INTERVAL_SECONDS = 10.0


class Analyzer:
    def __init__(self, url: str, interval: float = INTERVAL_SECONDS) -> None:
        self.url, self.interval = url, interval
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Start analyzing if the server's autovacuum is off; whether it was."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            if conn.execute("SHOW autovacuum").fetchone()[0] == "on":
                return False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(self.interval):
                conn.execute("ANALYZE")
                self.runs += 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def note(self) -> str:
        return (
            f"autovacuum is off on this PostgreSQL: the bench ran ANALYZE every "
            f"{self.interval:.0f} s ({self.runs} times), as autovacuum would have"
        )
