"""/api/v3 answers are written by orjson with DRF's JSONRenderer's bytes."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from trading.api.rendering import JsonRenderer, json_bytes

CASES = [
    {},
    [],
    {"code": -1013, "msg": "Filter failure: NOTIONAL"},
    {"bids": [["59999.00000000", "0.00100000"]], "lastUpdateId": 10},
    {"a": True, "b": None, "c": 1 << 62, "d": -5, "nested": {"x": [1, "2"]}},
    {"unicode": "café ✓ 日本", "separators": "\u2028 and \u2029"},
    {"decimal": Decimal("0.1"), "when": datetime.datetime(2026, 12, 6, 3, 4, 5)},
    {"big": 1 << 70},
]


@pytest.mark.parametrize("data", CASES)
def test_the_same_bytes_as_drf(data):
    assert json_bytes(data) == JSONRenderer().render(data)
    assert JsonRenderer().render(data) == JSONRenderer().render(data)


def test_nothing_renders_as_an_empty_body():
    assert JsonRenderer().render(None) == b""
