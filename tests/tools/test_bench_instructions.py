"""The per-request instruction count (tools/bench/instructions.py): reading
callgrind's totals and refusing what it cannot measure. The count itself needs
valgrind and a served stack, so it is run by hand (docs/performance.md)."""

import sys

import pytest

from tools.bench import instructions

CALLGRIND = """version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  .venv/bin/python .venv/bin/gunicorn --config gunicorn.conf.py
part: 1

events: Ir
summary: 3494126433

fl= (1) ???
"""


def test_the_worker_total_is_read_from_callgrind_output(tmp_path):
    out = tmp_path / "callgrind.4242"
    out.write_text(CALLGRIND)
    assert instructions._total(out) == 3_494_126_433
    out.write_text(CALLGRIND.replace("summary:", "totals:"))
    assert instructions._total(out) == 3_494_126_433


def test_output_without_a_total_is_refused(tmp_path):
    out = tmp_path / "callgrind.1"
    out.write_text("events: Ir\n")
    with pytest.raises(SystemExit, match="no instruction total"):
        instructions._total(out)


@pytest.mark.parametrize(
    "argv", [["--routes", "ping,login"], ["--routes", "depth", "--requests", "0"]]
)
def test_unknown_routes_and_no_requests_are_refused(monkeypatch, capsys, argv):
    monkeypatch.setattr(sys, "argv", ["instructions", *argv])
    with pytest.raises(SystemExit) as exited:
        instructions.main()
    assert exited.value.code == 2
    assert "routes are ping, depth and mix" in capsys.readouterr().err
