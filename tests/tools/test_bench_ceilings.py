"""The bench's calibration and ceilings report (tools/bench/ceilings.py)."""

from tools.bench import ceilings

WRK = """Running 10s test @ http://127.0.0.1:8000/api/v3/ping
  2 threads and 20 connections
  48213 requests in 10.00s, 14.07MB read
Requests/sec:   4821.30
Transfer/sec:      1.41MB
"""


def test_the_rate_is_read_from_wrk():
    assert ceilings.wrk_rate(WRK) == 4821.30


def test_a_run_with_refused_answers_has_no_ceiling():
    refused = WRK.replace(
        "Requests/sec", "  Non-2xx or 3xx responses: 12\nRequests/sec"
    )
    assert ceilings.wrk_rate(refused) is None


def test_each_ceiling_is_reported_as_a_share_of_the_bare_one():
    text = ceilings.report(
        {"bare WSGI": 8000.0, "ping": 4400.0, "depth": None}, cores=2, loop=12.34
    )
    assert "2 cores" in text and "12.3 ns per empty iteration" in text
    assert "| ping | 4,400 | 55% |" in text
    assert "| depth | failed | - |" in text


def test_the_loop_calibration_is_a_plausible_time():
    assert 0.1 < ceilings.loop_ns(repeat=1) < 1000
