"""When a step of the bench counts as held."""

from tools.bench.__main__ import missed


def step(target=1000, achieved=990.0, p99=80.0, failures=0):
    return {"target": target, "achieved": achieved, "p99": p99, "failures": failures}


def test_a_step_holds_with_the_rate_reached_in_time_and_no_failures():
    assert missed(step()) is None
    assert missed(step(achieved=950.0)) is None


def test_a_step_misses_on_latency_failures_or_a_rate_not_reached():
    assert missed(step(p99=120.0)) == "p99 120 ms"
    assert missed(step(failures=3)) == "3 requests failed"
    assert missed(step(achieved=837.8)) == (
        "837.8 req/s achieved, 84% of the offered rate"
    )
