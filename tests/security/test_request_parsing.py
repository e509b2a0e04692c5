"""Values that only look like Binance's grammar are refused before anything is read
or written."""

from urllib.parse import quote

import pytest

from tests.security.clients import snapshot
from tools.binance_client import sign

ORDER = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01",
    "price": "50000",
}


def form(params: dict) -> str:
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())


@pytest.mark.parametrize(
    "name,value",
    [
        ("quantity", "0.01\n"),
        ("price", "50000\n"),
        ("newClientOrderId", "mine\n"),
        ("symbol", "BTCUSDT\n"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v3/order", "/api/v3/order/test"])
def test_a_trailing_newline_is_not_part_of_the_grammar(alice, path, name, value):
    """``$`` in a Python pattern also matches before a final newline: a value with
    one must still be refused (-1100), not read as the number or id before it."""
    before = snapshot()
    for client in alice.clients().values():
        answer = client.post(path, None, form({**ORDER, name: value}))
        assert answer.status == 400, answer.body
        assert answer.code == -1100, answer.body
    assert snapshot() == before


def test_an_integer_with_a_trailing_newline_is_refused(alice):
    answer = alice.bearer.get(
        "/api/v3/allOrders", {"symbol": "BTCUSDT", "orderId": "1\n"}
    )
    assert answer.status == 400 and answer.code == -1100, answer.body


def test_a_signed_timestamp_with_a_trailing_newline_is_refused(alice):
    signer = alice.signed
    query, body, signature = signer.prepare(None, form({"symbol": "BTCUSDT"}))
    # The timestamp moved to the body, raw, with a newline after it.
    stamp = query.split("timestamp=")[1]
    body = f"{body}&timestamp={stamp}\n"
    answer = signer.send(
        "GET", "/api/v3/openOrders", "", body, sign(signer.secret, body)
    )
    assert answer.status == 400 and answer.code == -1100, answer.body
