"""Autovacuum's work in the background while the bench runs, when the server has
autovacuum off.

Some test machines run PostgreSQL with autovacuum off. Their tables are then
never analyzed, and a run that starts on a fresh database keeps the plans its
prepared statements got when the tables were nearly empty: sequential scans
over tables that grow by thousands of rows a minute. Nor are they vacuumed, so
every updated order row leaves a dead version in the table and its indexes.

The bench does what autovacuum would, by autovacuum's own rules and settings:
every 10 s it looks at each table's counters and ANALYZEs the tables changed
by more than ``autovacuum_analyze_threshold`` rows plus
``autovacuum_analyze_scale_factor`` of the table, and VACUUMs those past the
vacuum thresholds (dead rows, or rows inserted since the last vacuum), with
autovacuum's cost delay. An earlier version analyzed the whole database every
10 s; re-analyzing the large ledger and order tables that often cost each run
a stall of 100 ms or more every 11 s (docs/performance.md), which autovacuum
never causes: that measured the stand-in, not the exchange.
"""

from __future__ import annotations

import threading

import psycopg
from psycopg import sql

INTERVAL_SECONDS = 10.0

# The tables due for ANALYZE and for VACUUM, by autovacuum's formulas (a table
# never analyzed has reltuples -1: counted as empty).
DUE_SQL = """
SELECT s.relname,
       s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float
           + current_setting('autovacuum_analyze_scale_factor')::float
             * greatest(c.reltuples, 0),
       s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float
           + current_setting('autovacuum_vacuum_scale_factor')::float
             * greatest(c.reltuples, 0)
       OR s.n_ins_since_vacuum
           > current_setting('autovacuum_vacuum_insert_threshold')::float
             + current_setting('autovacuum_vacuum_insert_scale_factor')::float
               * greatest(c.reltuples, 0)
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = current_schema()
"""


class Analyzer:
    def __init__(self, url: str, interval: float = INTERVAL_SECONDS) -> None:
        self.url, self.interval = url, interval
        self.analyzed = 0
        self.vacuumed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Start standing in for autovacuum if the server's is off; whether it was."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            if conn.execute("SHOW autovacuum").fetchone()[0] == "on":
                return False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            # A worker's pace, not a manual VACUUM's (which has no delay).
            conn.execute(
                "SELECT set_config('vacuum_cost_delay', "
                "current_setting('autovacuum_vacuum_cost_delay'), false)"
            )
            while not self._stop.wait(self.interval):
                self.pass_once(conn)

    def pass_once(self, conn) -> None:
        """VACUUM (with ANALYZE where due) or ANALYZE each table that is due."""
        for table, analyze, vacuum in conn.execute(DUE_SQL).fetchall():
            name = sql.Identifier(table)
            if vacuum:
                options = sql.SQL("(ANALYZE) " if analyze else "")
                conn.execute(sql.SQL("VACUUM {}{}").format(options, name))
                self.vacuumed += 1
            elif analyze:
                conn.execute(sql.SQL("ANALYZE {}").format(name))
            self.analyzed += bool(analyze)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def note(self) -> str:
        return (
            "autovacuum is off on this PostgreSQL: the bench did its work by its "
            f"rules, checking every {self.interval:.0f} s ({self.analyzed} "
            f"ANALYZE and {self.vacuumed} VACUUM of a table)"
        )
