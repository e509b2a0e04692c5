"""The shared signing client: Binance's documented examples, and what its HTTP client
puts on the wire, as the server's verifier reads it."""

import http.server
import json
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest

from accounts.signing import signature_valid, split_signature
from tools.binance_client import BinanceClient, sign, signed_query

# The example key of Binance's "SIGNED endpoint examples for POST /api/v3/order".
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
ORDER = [
    ("symbol", "LTCBTC"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("timeInForce", "GTC"),
    ("quantity", "1"),
    ("price", "0.1"),
    ("recvWindow", "5000"),
]


def test_sign_matches_binances_documented_examples():
    query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    rest = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    # Everything in the query string.
    assert (
        sign(SECRET, f"{query}&{rest}")
        == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )
    # Split between query and body: the two are joined with nothing between.
    assert (
        sign(SECRET, query + rest)
        == "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
    )


def test_signed_query_appends_timestamp_then_signature():
    assert signed_query(SECRET, ORDER, timestamp=1499827319559) == (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
        "&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )


def test_signed_query_puts_recv_window_after_the_timestamp_and_signs_it():
    query = signed_query(SECRET, {"symbol": "BTCUSDT"}, recv_window=10000, timestamp=7)
    unsigned, body, signatures = split_signature(query, "")
    assert unsigned == "symbol=BTCUSDT&timestamp=7&recvWindow=10000"
    assert signature_valid(SECRET, unsigned + body, signatures[0])


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str | None]] = []

    def _answer(self):
        self.seen.append((self.command, self.path, self.headers.get("X-MBX-APIKEY")))
        status = 400 if "refuse" in self.path else 200
        body = {"code": -1013, "msg": "refused"} if status == 400 else {}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.seen
    server.shutdown()
    server.server_close()


def test_the_client_sends_a_signature_the_server_accepts(recorder):
    base, seen = recorder
    api = BinanceClient(base, "the-key", SECRET, recv_window=5000)
    assert api.signed_post("/api/v3/order", {"symbol": "BTCUSDT"}) == (200, {})
    assert api.get("/api/v3/depth", {"symbol": "BTCUSDT"}) == (200, {})
    assert api.signed_delete("/api/v3/refuse") == (
        400,
        {"code": -1013, "msg": "refused"},
    )
    (method, signed_path, key), (_, public_path, no_key), (verb, _, _) = seen
    assert (method, key, no_key, verb) == ("POST", "the-key", None, "DELETE")
    assert public_path == "/api/v3/depth?symbol=BTCUSDT"
    query = urlsplit(signed_path).query
    unsigned, body, signatures = split_signature(query, "")
    assert [name for name, _ in parse_qsl(unsigned)] == [
        "symbol",
        "timestamp",
        "recvWindow",
    ]
    assert signature_valid(SECRET, unsigned + body, signatures[0])
    assert not signature_valid("another secret", unsigned + body, signatures[0])


def test_a_signed_call_without_a_key_is_refused_before_sending(recorder):
    base, seen = recorder
    with pytest.raises(ValueError, match="API key"):
        BinanceClient(base).signed_get("/api/v3/account")
    assert seen == []
    with pytest.raises(ValueError, match="http"):
        BinanceClient("file:///etc/passwd")
