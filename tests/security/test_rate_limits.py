"""Rate limits answer 429 with Retry-After and Binance's codes: -1003 for request
weight (per IP) and login attempts, -1015 for orders (per account). Small limits,
and the clocks the counters read are frozen so that no window edge falls inside a
test."""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import pytest

from tests.factories import PASSWORD, UserFactory
from tests.security.clients import Bearer, snapshot

# 30 s into a minute (and into a 10 s window: no, 0 s into it), 1,800,000,030 s.
FROZEN = SimpleNamespace(time=lambda: 1_800_000_030.0)
LIMITS = {
    "enabled": True,
    "weight_per_minute": 30,
    "orders_per_10s": 2,
    "orders_per_day": 1000,
}
ORDER = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01",
}


@pytest.fixture
def limits(settings):
    settings.RATE_LIMITS = LIMITS
    with mock.patch("trading.api.ratelimit.time", FROZEN):
        yield


def assert_429(answer, code: int, retry_after: str) -> None:
    assert answer.status == 429, answer.body
    assert answer.body["code"] == code, answer.body
    assert isinstance(answer.body["msg"], str) and answer.body["msg"]
    assert answer.headers["Retry-After"] == retry_after


def test_request_weight_past_the_limit_is_1003_with_retry_after(symbols, limits):
    client = Bearer("")
    assert client.get("/api/v3/exchangeInfo").headers["X-MBX-USED-WEIGHT-1M"] == "20"
    assert client.get("/api/v3/ping").headers["X-MBX-USED-WEIGHT-1M"] == "21"
    refused = client.get("/api/v3/exchangeInfo")
    # 30 s into the frozen minute: the window ends in 30 s, rounded up.
    assert_429(refused, -1003, "31")
    assert refused.headers["X-MBX-USED-WEIGHT-1M"] == "41"
    # Every endpoint counts against the same IP budget, signed ones too.
    assert client.get("/api/v3/ping").status == 429


def test_weight_is_per_ip_and_forwarded_for_does_not_move_it(symbols, limits):
    client = Bearer("", ip="192.0.2.1")
    client.get("/api/v3/exchangeInfo")
    client.get("/api/v3/exchangeInfo")
    assert client.get("/api/v3/ping").status == 429
    spoofed = client.get("/api/v3/ping", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert spoofed.status == 429
    assert Bearer("", ip="192.0.2.2").get("/api/v3/ping").status == 200


@pytest.mark.parametrize("auth", ["jwt", "signed"])
def test_orders_past_the_limit_are_1015_and_change_nothing(alice, limits, auth):
    client = alice.clients()[auth]
    for price in ("40000", "40001"):
        assert (
            client.post("/api/v3/order", None, {**ORDER, "price": price}).status == 200
        )
    before = snapshot()
    refused = client.post("/api/v3/order", None, {**ORDER, "price": "40002"})
    # 0 s into the frozen 10-second window: it ends in 10 s, rounded up.
    assert_429(refused, -1015, "11")
    assert refused.body["msg"] == (
        "Too many new orders; current limit is 2 orders per 10 SECOND."
    )
    assert snapshot() == before
    # Reads and cancels are not new orders.
    assert client.get("/api/v3/openOrders", {"symbol": "BTCUSDT"}).status == 200
    assert (
        client.delete("/api/v3/order", {"symbol": "BTCUSDT", "orderId": 1}).status
        == 200
    )


def test_the_order_count_is_per_account_whatever_the_ip(alice, bob, limits):
    alice.bearer.post("/api/v3/order", None, {**ORDER, "price": "40000"})
    alice.signed.ip = "203.0.113.9"
    alice.signed.post("/api/v3/order", None, {**ORDER, "price": "40001"})
    from_elsewhere = Bearer(alice.bearer.token, ip="203.0.113.10")
    assert_429(
        from_elsewhere.post("/api/v3/order", None, {**ORDER, "price": "40002"}),
        -1015,
        "11",
    )
    assert (
        bob.bearer.post("/api/v3/order", None, {**ORDER, "price": "40003"}).status
        == 200
    )


def test_the_daily_order_limit_is_1015(alice, settings):
    settings.RATE_LIMITS = {**LIMITS, "orders_per_10s": 100, "orders_per_day": 1}
    with mock.patch("trading.api.ratelimit.time", FROZEN):
        assert (
            alice.bearer.post("/api/v3/order", None, {**ORDER, "price": "40000"}).status
            == 200
        )
        refused = alice.bearer.post("/api/v3/order", None, {**ORDER, "price": "40001"})
    assert refused.status == 429 and refused.body["code"] == -1015
    assert refused.body["msg"].endswith("1 orders per 1 DAY.")
    assert int(refused.headers["Retry-After"]) > 0


def test_login_attempts_past_the_limit_are_1003_with_retry_after(db, settings):
    settings.LOGIN_THROTTLE = {
        "ip_limit": 100,
        "account_limit": 2,
        "window_seconds": 300,
    }
    user = UserFactory()
    client = Bearer("")
    with mock.patch("accounts.throttling.time", FROZEN):
        for _ in range(2):
            wrong = client.post(
                "/api/v1/auth/login",
                None,
                {"username": user.username, "password": "nope"},
            )
            assert wrong.status == 401
        # Even the right password is refused once the account's budget is spent.
        refused = client.post(
            "/api/v1/auth/login",
            None,
            {"username": user.username, "password": PASSWORD},
        )
    # 1,800,000,030 s is 30 s into a 300 s window: 270 s to go, rounded up.
    assert_429(refused, -1003, "271")


def test_requests_refused_at_authentication_still_spend_weight(alice, limits):
    """Guessing tokens or signatures is limited like any other traffic."""
    bad_token = Bearer("not-a-token", ip="192.0.2.50")
    # openOrders for one symbol weighs 6: five fit in 30.
    for _ in range(5):
        answer = bad_token.get("/api/v3/openOrders", {"symbol": "BTCUSDT"})
        assert answer.status == 401
    refused = bad_token.get("/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert refused.status == 429 and refused.body["code"] == -1003
    bad_signature = alice.signed
    bad_signature.ip = "192.0.2.51"
    query, _, _ = bad_signature.prepare({"symbol": "BTCUSDT"})
    for _ in range(5):
        answer = bad_signature.send("GET", "/api/v3/openOrders", query, "", "0" * 64)
        assert answer.status == 400 and answer.code == -1022
    assert (
        bad_signature.send("GET", "/api/v3/openOrders", query, "", "0" * 64).status
        == 429
    )


class Clock:
    """The tally's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def batched(settings, limits):
    """Weight sent to Redis at most every 10 s by this process; a hand clock."""
    from django.conf import settings as live

    if not live.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL")
    settings.RATE_LIMIT_SYNC_SECONDS = 10
    clock = Clock()
    with mock.patch("trading.api.ratelimit.monotonic", clock):
        yield clock


def weight_in_redis(ip: str, add: int = 0) -> int:
    """The IP's weight total in Redis, after adding ``add`` as another process
    (another worker or pod) would."""
    from exchange.redis import redis_client
    from trading.api import ratelimit

    key, _ = ratelimit._key("w", ip, "1m", FROZEN.time())
    client = redis_client()
    return int(client.incrby(key, add))


def test_weight_between_syncs_is_counted_here_and_sent_at_the_next(symbols, batched):
    client = Bearer("", ip="192.0.2.9")
    assert client.get("/api/v3/ping").headers["X-MBX-USED-WEIGHT-1M"] == "1"
    assert weight_in_redis("192.0.2.9") == 1  # the first request syncs
    assert client.get("/api/v3/ping").headers["X-MBX-USED-WEIGHT-1M"] == "2"
    assert client.get("/api/v3/ping").headers["X-MBX-USED-WEIGHT-1M"] == "3"
    assert weight_in_redis("192.0.2.9") == 1  # not yet sent
    assert weight_in_redis("192.0.2.9", add=5) == 6  # another worker's weight
    batched.now += 10
    # The sync sends this process's 3 and reads the other worker's 5 back.
    assert client.get("/api/v3/ping").headers["X-MBX-USED-WEIGHT-1M"] == "9"
    assert weight_in_redis("192.0.2.9") == 9


def test_near_the_limit_every_request_is_counted_in_redis_at_once(symbols, batched):
    client = Bearer("", ip="192.0.2.10")
    assert client.get("/api/v3/ping").status == 200
    weight_in_redis("192.0.2.10", add=22)  # other workers: 23 of 30
    # Far from the limit as this process last knew it: counted here.
    assert client.get("/api/v3/ping").headers["X-MBX-USED-WEIGHT-1M"] == "2"
    batched.now += 10
    # Synced: 25, within a fifth of the limit, so from now on every request
    # goes to Redis and sees the other workers' weight at once.
    assert client.get("/api/v3/ping").headers["X-MBX-USED-WEIGHT-1M"] == "25"
    weight_in_redis("192.0.2.10", add=5)
    refused = client.get("/api/v3/ping")
    assert_429(refused, -1003, "31")
    assert refused.headers["X-MBX-USED-WEIGHT-1M"] == "31"


def test_near_a_small_order_limit_an_order_is_counted_in_redis_at_once(alice, batched):
    # Two orders per 10 s: any order is within a fifth of the limit.
    client = alice.clients()["signed"]
    client.get("/api/v3/ping")
    client.get("/api/v3/ping")
    placed = client.post("/api/v3/order", None, {**ORDER, "price": "40000"})
    assert placed.status == 200, placed.body
    assert placed.headers["X-MBX-ORDER-COUNT-10S"] == "1"
    used = int(placed.headers["X-MBX-USED-WEIGHT-1M"])
    assert weight_in_redis("127.0.0.1") == used == 3


def orders_in_redis(user_id: int, add: int = 0) -> int:
    """The account's 10-second order count in Redis, after adding ``add`` as
    another process would."""
    from exchange.redis import redis_client
    from trading.api import ratelimit

    key, _ = ratelimit._key("o", str(user_id), "10s", FROZEN.time())
    return int(redis_client().incrby(key, add))


@pytest.fixture
def roomy(batched, settings):
    """Limits far above what a test sends: 100 orders per 10 s."""
    settings.RATE_LIMITS = {
        **LIMITS,
        "weight_per_minute": 1000,
        "orders_per_10s": 100,
        "orders_per_day": 1000,
    }
    return batched


def test_orders_far_from_the_limit_are_counted_here_and_sent_at_the_next_sync(
    alice, roomy
):
    client = alice.clients()["signed"]
    client.get("/api/v3/ping")  # the first request syncs
    placed = client.post("/api/v3/order", None, {**ORDER, "price": "40000"})
    assert placed.status == 200, placed.body
    assert placed.headers["X-MBX-ORDER-COUNT-10S"] == "1"
    assert orders_in_redis(alice.user.id) == 0  # not yet sent
    counts = client.get("/api/v3/rateLimit/order").body
    assert [c["count"] for c in counts] == [1, 1]  # this process's, unsent
    assert orders_in_redis(alice.user.id, add=3) == 3  # another worker's orders
    roomy.now += 10
    # The sync sends this process's order and reads the other worker's 3 back.
    placed = client.post("/api/v3/order", None, {**ORDER, "price": "40001"})
    assert placed.headers["X-MBX-ORDER-COUNT-10S"] == "5"
    assert orders_in_redis(alice.user.id) == 5


def test_a_process_holds_back_at_most_a_twentieth_of_an_order_limit(alice, roomy):
    """So that several processes together cannot let an account far past its
    limit between two syncs."""
    client = alice.clients()["signed"]
    client.get("/api/v3/ping")  # the first request syncs
    for n in range(1, 6):  # five of 100 held back
        placed = client.post("/api/v3/order", None, {**ORDER, "price": f"4000{n}"})
        assert placed.headers["X-MBX-ORDER-COUNT-10S"] == str(n)
    assert orders_in_redis(alice.user.id) == 0
    placed = client.post("/api/v3/order", None, {**ORDER, "price": "40006"})
    assert placed.headers["X-MBX-ORDER-COUNT-10S"] == "6"
    assert orders_in_redis(alice.user.id) == 6
