"""The WebSocket API's request parsing and the signed payload it rebuilds, as each
client signs it."""

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest

from exchange.errors import ExchangeError
from trading.streams.wsapi import WsApiError, request_parse, signature_payloads

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def test_tokens_are_the_client_s_text():
    request_id, method, params = request_parse(
        '{"id":"1","method":"order.place","params":{"price":100.50,'
        '"recvWindow":10000,"returnRateLimits":false,"symbol":"BTCUSDT"}}'
    )
    assert (request_id, method) == ("1", "order.place")
    assert params == {
        "price": "100.50",
        "recvWindow": "10000",
        "returnRateLimits": "false",
        "symbol": "BTCUSDT",
    }


@pytest.mark.parametrize(
    "request_id", [7, "c4b8e3a2-1d1b-4d8c-9a5e-2f0f2a6c7d11", None]
)
def test_id_types_survive(request_id):
    assert request_parse(json.dumps({"id": request_id, "method": "ping"}))[0] == (
        request_id
    )


def test_raw_signature_as_ccxt_signs():
    params = {
        "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "price": "52000.00",
        "quantity": "0.01000000",
        "recvWindow": "100",
        "side": "SELL",
        "symbol": "BTCUSDT",
        "timeInForce": "GTC",
        "timestamp": "1645423376532",
        "type": "LIMIT",
    }
    payloads = signature_payloads({**params, "signature": "x"})
    raw = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    assert payloads == [raw]


def test_percent_encoded_signature_as_python_binance_signs():
    params = {"apiKey": "k", "newClientOrderId": "a/b:c", "timestamp": "1"}
    payloads = signature_payloads(params)
    assert payloads == [
        "apiKey=k&newClientOrderId=a/b:c&timestamp=1",
        urlencode(sorted(params.items())),
    ]
    signed = hmac.new(SECRET.encode(), payloads[1].encode(), hashlib.sha256)
    assert len(signed.hexdigest()) == 64


@pytest.mark.parametrize(
    "text",
    [
        "{bad",
        "[]",
        '{"id":true,"method":"ping"}',
        '{"id":1}',
        '{"id":1,"method":"ping","params":[1]}',
        '{"id":"' + "x" * 37 + '","method":"ping"}',
    ],
)
def test_malformed_requests_are_refused(text):
    with pytest.raises((WsApiError, ExchangeError)):
        request_parse(text)
