"""The bench's CPU figures: a process that ends during a step keeps its time."""

import subprocess
import sys
import time
import uuid

from tools.bench.__main__ import cpu_seconds

BURN = (
    "import time\n"
    "end = time.process_time() + 0.3\n"
    "while time.process_time() < end: pass"
)


def test_the_time_of_a_child_that_has_ended_stays_with_its_parent():
    marker = f"bench-cpu-{uuid.uuid4().hex}"
    parent = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            f"subprocess.run([sys.executable, '-c', {BURN!r}], check=True)\n"
            "print('reaped', flush=True)\n"
            "time.sleep(30)",
            marker,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout.readline() == "reaped\n"
        time.sleep(0.05)
        assert cpu_seconds((marker,))[marker] >= 0.25
    finally:
        parent.kill()
        parent.wait()
