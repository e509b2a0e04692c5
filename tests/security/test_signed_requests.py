"""Binance-signed requests (X-MBX-APIKEY + HMAC-SHA256 ``signature``): a captured
request dies with its recvWindow, a signature covers exactly the parameters sent,
and a key opens only what its permissions, its state and its IP allow-list say.

The clock the authenticator reads is frozen, so that no window edge is timed."""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import pytest

from accounts import services as account_services
from accounts.models import User
from tests.security.clients import Signed, signed_client, snapshot
from tests.security.conftest import place
from tools.binance_client import sign

T0 = 1_800_000_000_000  # ms
ORDER = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000"


@pytest.fixture
def clock():
    """The authenticator's clock, frozen at T0 and moved by hand."""
    now = {"ms": T0}
    frozen = SimpleNamespace(time=lambda: now["ms"] / 1000)
    with mock.patch("accounts.authentication.time", frozen):
        yield now


# --- Replay and the receive window ---------------------------------------------------


def test_a_captured_order_replayed_after_its_window_is_1021(alice, clock):
    signer = alice.signed
    query, body, signature = signer.prepare(None, ORDER, timestamp=T0)
    assert signer.send("POST", "/api/v3/order", query, body, signature).status == 200
    before = snapshot()
    clock["ms"] = T0 + 5001  # default recvWindow: 5000 ms
    replay = signer.send("POST", "/api/v3/order", query, body, signature)
    assert replay.status == 400 and replay.code == -1021, replay.body
    assert snapshot() == before


def test_the_longest_window_is_60_seconds(alice, clock):
    signer = alice.signed
    query, _, signature = signer.prepare(
        {"symbol": "BTCUSDT"}, timestamp=T0, recv_window=60000
    )
    clock["ms"] = T0 + 60000
    assert signer.send("GET", "/api/v3/openOrders", query, "", signature).status == 200
    clock["ms"] = T0 + 60001
    late = signer.send("GET", "/api/v3/openOrders", query, "", signature)
    assert late.status == 400 and late.code == -1021
    for window, code in [(60001, -1131), (0, -1131), (-1, -1130), ("1e4", -1130)]:
        q, _, s = signer.prepare(
            {"symbol": "BTCUSDT"}, timestamp=T0, recv_window=window
        )
        answer = signer.send("GET", "/api/v3/openOrders", q, "", s)
        assert answer.status == 400 and answer.code == code, (window, answer.body)


def test_a_timestamp_from_the_future_is_1021(alice, clock):
    signer = alice.signed
    ok = signer.prepare({"symbol": "BTCUSDT"}, timestamp=T0 + 1000)
    assert signer.send("GET", "/api/v3/openOrders", ok[0], "", ok[2]).status == 200
    ahead = signer.prepare({"symbol": "BTCUSDT"}, timestamp=T0 + 1001)
    answer = signer.send("GET", "/api/v3/openOrders", ahead[0], "", ahead[2])
    assert answer.status == 400 and answer.code == -1021


def test_a_replay_within_the_window_with_a_client_order_id_places_nothing(alice, clock):
    """Within recvWindow a replay is a new request, as on Binance; a client that
    names its orders (newClientOrderId) gets the copy refused while the first is
    open."""
    signer = alice.signed
    query, body, signature = signer.prepare(
        None, ORDER + "&newClientOrderId=once", timestamp=T0
    )
    assert signer.send("POST", "/api/v3/order", query, body, signature).status == 200
    before = snapshot()
    clock["ms"] = T0 + 100
    replay = signer.send("POST", "/api/v3/order", query, body, signature)
    assert replay.status == 400 and replay.code == -2010, replay.body
    assert replay.body["msg"] == "Duplicate order sent."
    assert snapshot() == before


# --- What the signature covers -------------------------------------------------------


def tampered(signer: Signed, other_secret: str) -> list[tuple[str, str, str, str]]:
    """(label, query, body, signature): each one changed after signing."""
    query, body, signature = signer.prepare(None, ORDER, timestamp=T0)
    return [
        (
            "value changed",
            query,
            body.replace("quantity=0.01", "quantity=1"),
            signature,
        ),
        ("parameter added", query, body + "&newOrderRespType=ACK", signature),
        ("parameter removed", query, body.replace("&price=50000", ""), signature),
        ("timestamp refreshed", f"timestamp={T0 + 1}", body, signature),
        ("signature of the body only", query, body, sign(signer.secret, body)),
        ("signature of the query only", query, body, sign(signer.secret, query)),
        ("upper and lower case mixed up", query, body.replace("BUY", "buy"), signature),
        ("truncated signature", query, body, signature[:-2]),
        ("not hex", query, body, "z" * 64),
        ("empty signature", query, body, ""),
        ("another key's secret", query, body, sign(other_secret, query + body)),
    ]


def test_a_signature_over_other_parameters_is_1022(alice, clock):
    signer = alice.signed
    other = signed_client(alice.user)
    before = snapshot()
    for label, query, body, signature in tampered(signer, other.secret):
        answer = signer.send("POST", "/api/v3/order", query, body, signature)
        assert answer.status == 400 and answer.code == -1022, (label, answer.body)
    assert snapshot() == before


def test_a_signature_sent_twice_is_1101(alice, clock):
    signer = alice.signed
    query, body, signature = signer.prepare(None, ORDER, timestamp=T0)
    answer = signer.send(
        "POST", "/api/v3/order", f"{query}&signature={signature}", body, signature
    )
    assert answer.status == 400 and answer.code == -1101


def test_a_request_without_timestamp_or_signature_is_1102(alice, clock):
    signer = alice.signed
    no_stamp = signer.send(
        "POST", "/api/v3/order", "", ORDER, sign(signer.secret, ORDER)
    )
    assert no_stamp.status == 400 and no_stamp.code == -1102
    query, body, _ = signer.prepare(None, ORDER, timestamp=T0)
    unsigned = signer.send("POST", "/api/v3/order", query, body)
    assert unsigned.status == 400 and unsigned.code == -1102


def test_a_signature_is_for_one_key(alice, bob, clock):
    """Alice's signed request under Bob's key is refused, and moves nothing of Bob's."""
    query, body, signature = alice.signed.prepare(None, ORDER, timestamp=T0)
    before = snapshot()
    answer = alice.signed.send(
        "POST", "/api/v3/order", query, body, signature, key=bob.signed.key
    )
    assert answer.status == 400 and answer.code == -1022
    assert snapshot() == before


# --- What a key may do --------------------------------------------------------------

TRADING = [
    ("POST", "/api/v3/order", ORDER),
    ("POST", "/api/v3/order/test", ORDER),
    ("DELETE", "/api/v3/order", "symbol=BTCUSDT&orderId=1"),
    (
        "POST",
        "/api/v3/order/cancelReplace",
        ORDER + "&cancelReplaceMode=STOP_ON_FAILURE&cancelOrderId=1",
    ),
    ("DELETE", "/api/v3/openOrders", "symbol=BTCUSDT"),
]
READING = [
    ("GET", "/api/v3/account", ""),
    ("GET", "/api/v3/openOrders", "symbol=BTCUSDT"),
    ("GET", "/api/v3/allOrders", "symbol=BTCUSDT"),
    ("GET", "/api/v3/myTrades", "symbol=BTCUSDT"),
    ("GET", "/api/v3/order", "symbol=BTCUSDT&orderId=1"),
    ("GET", "/api/v3/rateLimit/order", ""),
]


def call(signer: Signed, method: str, path: str, params: str):
    if method == "GET":
        return signer.call(method, path, params)
    return signer.call(method, path, None, params)


def test_a_read_only_key_reads_but_cannot_trade(alice):
    place(alice.user, "BUY", "0.01", "40000")  # order 1, so that reads find it
    reader = signed_client(alice.user, permissions=["read"])
    before = snapshot()
    for method, path, params in TRADING:
        answer = call(reader, method, path, params)
        assert answer.status == 401 and answer.code == -2015, (path, answer.body)
    assert snapshot() == before
    for method, path, params in READING:
        answer = call(reader, method, path, params)
        assert answer.status == 200, (path, answer.body)
    assert call(reader, *READING[0]).body["canTrade"] is False
    assert call(alice.signed, *READING[0]).body["canTrade"] is True


def assert_key_refused(signer: Signed) -> None:
    before = snapshot()
    for method, path, params in READING + TRADING:
        answer = call(signer, method, path, params)
        assert answer.status == 401 and answer.code == -2015, (path, answer.body)
    assert snapshot() == before


def test_a_revoked_key_is_refused_at_once(alice):
    # The key's record is cached after this first call...
    assert alice.signed.get("/api/v3/account").status == 200
    revoked = alice.bearer.delete(f"/api/v1/api-keys/{alice.signed.key_id}")
    assert revoked.status == 204
    # ...and revoking drops it from the cache.
    assert_key_refused(alice.signed)


def test_a_disabled_users_key_is_refused_at_once(alice):
    assert alice.signed.get("/api/v3/account").status == 200
    account_services.user_disable(user_id=alice.user.id)
    assert_key_refused(alice.signed)


def test_the_admin_cannot_deactivate_a_user_behind_the_services(alice):
    """Deactivating goes through the disable action (keys revoked, caches dropped,
    orders cancelled); the user page's Active box is read-only."""
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    user_admin = django_admin.site._registry[User]
    request = RequestFactory().get("/")
    assert "is_active" in user_admin.get_readonly_fields(request, alice.user)


def test_an_unknown_or_malformed_key_is_refused(alice):
    query, _, signature = alice.signed.prepare(timestamp=None)
    unknown = alice.signed.send(
        "GET", "/api/v3/account", query, "", signature, key="A" * 64
    )
    assert unknown.status == 401 and unknown.code == -2015
    for key in ("", "has space", "x" * 129, "ключ", "key;drop"):
        answer = alice.signed.send(
            "GET", "/api/v3/account", query, "", signature, key=key
        )
        assert answer.status == 401 and answer.code == -2014, (key, answer.body)


# --- The IP allow-list --------------------------------------------------------------


def test_an_ip_allow_list_holds_and_forwarded_for_cannot_fake_it(alice, settings):
    key, secret = account_services.apikey_create(
        user_id=alice.user.id, permissions=["read"], ip_allowlist=["10.0.0.0/8"]
    )
    outside = Signed(key.key, secret, ip="192.168.1.9")
    assert outside.get("/api/v3/account").status == 401
    # Without trusted proxies, X-Forwarded-For is the client's to write: ignored.
    q, _, s = outside.prepare()
    spoofed = outside.client.get(
        f"/api/v3/account?{q}&signature={s}",
        REMOTE_ADDR="192.168.1.9",
        HTTP_X_MBX_APIKEY=key.key,
        HTTP_X_FORWARDED_FOR="10.1.2.3",
    )
    assert spoofed.status_code == 401
    inside = Signed(key.key, secret, ip="10.1.2.3")
    assert inside.get("/api/v3/account").status == 200
    # Behind one trusted proxy, only the address it appended counts.
    settings.NUM_PROXIES = 1
    for forwarded, status in [
        ("10.1.2.3, 192.168.1.9", 401),
        ("192.168.1.9, 10.1.2.3", 200),
    ]:
        q, _, s = outside.prepare()
        answer = outside.client.get(
            f"/api/v3/account?{q}&signature={s}",
            REMOTE_ADDR="172.16.0.2",
            HTTP_X_MBX_APIKEY=key.key,
            HTTP_X_FORWARDED_FOR=forwarded,
        )
        assert answer.status_code == status, forwarded


def shifted(body: str, after: str) -> tuple[str, str]:
    """Cut a signed body after ``after``: the head becomes the query string, the
    rest stays the body. query + body, the signed payload, is unchanged."""
    cut = body.index(after) + len(after)
    return body[:cut], body[cut:]


@pytest.mark.parametrize(
    "after",
    ["quantity=0.1", "quantity=", "quantity", "quan", "price=5", "timestamp="],
)
def test_bytes_moved_between_query_and_body_do_not_keep_a_signature(
    alice, clock, after
):
    """The signature covers query + body with nothing between them, so a cut at
    another place signs the same bytes: quantity=0.15 cut after "0.1" would read
    as 0.1 (the query's value wins) and a stray "5". Every parameter of a signed
    request must be name=value, so such a cut is refused."""
    signer = alice.signed
    body = f"{ORDER.replace('0.01', '0.15')}&timestamp={T0}"
    signature = sign(signer.secret, body)
    query, rest = shifted(body, after)
    before = snapshot()
    answer = signer.send("POST", "/api/v3/order", query, rest, signature)
    assert answer.status == 400 and answer.code == -1100, answer.body
    assert snapshot() == before


def test_whole_parameters_may_sit_in_either_part(alice, clock):
    """Binance's own example signs a query string followed by a body."""
    signer = alice.signed
    body = f"{ORDER}&timestamp={T0}"
    query, rest = shifted(body, "timeInForce=GTC")
    assert rest.startswith("&")
    rest = rest[1:]
    signature = sign(signer.secret, query + rest)
    answer = signer.send("POST", "/api/v3/order", query, rest, signature)
    assert answer.status == 200, answer.body
