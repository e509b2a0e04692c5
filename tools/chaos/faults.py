"""The faults of a chaos run, on the chaos stack only, each written to a timeline.

- :class:`WorkerKiller`: SIGKILL a random gunicorn worker every few seconds (the
  master forks a new one).
- :class:`Outages`: stop Redis for a while and start it again; then stop
  PostgreSQL (``pg_ctl stop -m fast``: sessions are terminated, transactions
  rolled back), keep it down for a few seconds, and start it again. With no
  down time, it is one ``pg_ctl restart -m fast``.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from dataclasses import dataclass

from tools.chaos.client import Clock


@dataclass(frozen=True, slots=True)
class Event:
    t: float
    what: str
    detail: str = ""


class Timeline:
    """What happened when, in run seconds."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.events: list[Event] = []

    def add(self, what: str, detail: str = "") -> Event:
        event = Event(round(self.clock.now(), 3), what, detail)
        self.events.append(event)
        return event

    def times(self, what: str) -> list[float]:
        return [e.t for e in self.events if e.what == what]

    def window(self, begin: str, end: str) -> tuple[float, float] | None:
        """From the first ``begin`` event to the first ``end`` event after it."""
        starts = self.times(begin)
        if not starts:
            return None
        ends = [t for t in self.times(end) if t >= starts[0]]
        return (starts[0], ends[0] if ends else float("inf"))


class WorkerKiller(threading.Thread):
    """SIGKILL one random worker of our gunicorn every ``every`` seconds (with
    some jitter) between ``start`` and ``end`` run seconds."""

    def __init__(
        self,
        stack,
        timeline: Timeline,
        *,
        every: float,
        start: float,
        end: float,
        stop: threading.Event,
        seed: int,
    ) -> None:
        super().__init__(name="worker-killer", daemon=True)
        self.stack = stack
        self.timeline = timeline
        self.every = every
        self.start_at = start
        self.end_at = end
        self.stop = stop
        self.rng = random.Random(seed)
        self.kills = 0

    def run(self) -> None:
        clock = self.timeline.clock
        next_at = self.start_at
        for _ in range(int((self.end_at - self.start_at) / (self.every / 2)) + 2):
            wait = next_at - clock.now()
            if wait > 0 and self.stop.wait(wait):
                return
            if clock.now() >= self.end_at:
                return
            pids = self.stack.worker_pids()
            if pids:
                pid = self.rng.choice(pids)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                else:
                    self.kills += 1
                    self.timeline.add("worker killed", str(pid))
            next_at = clock.now() + self.every * self.rng.uniform(0.6, 1.4)


class Outages(threading.Thread):
    """Redis down at ``redis_at`` for ``redis_down`` seconds; PostgreSQL down at
    ``pg_at`` for ``pg_down`` seconds (0: one restart)."""

    def __init__(
        self,
        stack,
        timeline: Timeline,
        *,
        redis_at: float,
        redis_down: float,
        pg_at: float,
        pg_down: float,
        stop: threading.Event,
    ) -> None:
        super().__init__(name="outages", daemon=True)
        self.stack = stack
        self.timeline = timeline
        self.redis_at = redis_at
        self.redis_down = redis_down
        self.pg_at = pg_at
        self.pg_down = pg_down
        self.stop = stop
        self.failure: BaseException | None = None

    def _until(self, t: float) -> bool:
        """Wait until run second ``t``; False if the run was stopped first."""
        wait = t - self.timeline.clock.now()
        return not (wait > 0 and self.stop.wait(wait))

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - reported by the run
            self.failure = exc
            self.timeline.add("fault failed", repr(exc))

    def _run(self) -> None:
        add = self.timeline.add
        if self.redis_down > 0 and self._until(self.redis_at):
            add("redis stopping")
            self.stack.redis_stop()
            add("redis stopped")
            self._until(self.redis_at + self.redis_down)
            # Started again even if the run is stopping: the stack is torn down
            # as a whole afterwards.
            add("redis starting")
            self.stack.redis_start()
            add("redis started")
        if self.pg_at >= 0 and self._until(self.pg_at):
            if self.pg_down > 0:
                add("postgresql stopping", "pg_ctl stop -m fast")
                self.stack.pg_stop("fast")
                add("postgresql stopped")
                self._until(self.pg_at + self.pg_down)
                add("postgresql starting", "pg_ctl start")
                self.stack.pg_start()
            else:
                add("postgresql stopping", "pg_ctl restart -m fast")
                self.stack.pg_restart()
            add("postgresql started")
