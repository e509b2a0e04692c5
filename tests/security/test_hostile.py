"""What a hostile test of a served build found, each pinned by a test that
failed before its fix: unbounded metric labels and book slots, unthrottled
account endpoints, login throttling failing open with Redis down, 500s on
non-ASCII digits and deeply nested JSON, and error bodies not in Binance's
shape."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from prometheus_client import REGISTRY

from accounts import throttling
from matching.registry import registry
from tests.factories import PASSWORD, UserFactory, admin_login
from tests.security.clients import Bearer

pytestmark = pytest.mark.django_db


def label_values(metric: str, label: str) -> set[str]:
    return {
        sample.labels[label]
        for family in REGISTRY.collect()
        if family.name == metric
        for sample in family.samples
        if label in sample.labels
    }


# --- metric labels and book slots --------------------------------------------------


def test_an_unknown_http_method_is_one_label_value():
    client = Client()
    for method in ("BREW", "PROPFIND", "X" * 40):
        client.generic(method, "/api/v3/ping")
    methods = label_values("exchange_request_seconds", "method")
    assert not {"BREW", "PROPFIND", "X" * 40} & methods
    assert "other" in methods


@pytest.mark.parametrize("method", ["post", "delete"])
def test_an_unknown_symbol_leaves_no_book_slot_and_no_label(alice, method):
    symbol = f"NOPE{method.upper()}USDT"
    answer = getattr(alice.bearer, method)(
        "/api/v3/order",
        body={
            "symbol": symbol,
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "1",
            "price": "1",
            "orderId": "1",
        },
    )
    assert answer.status == 400 and answer.code == -1121, answer.body
    assert symbol not in dict(registry.items())
    for metric in ("exchange_pair_lock_wait_seconds", "exchange_orders_total"):
        assert symbol not in label_values(metric, "symbol")


# --- throttles -------------------------------------------------------------------


def test_registration_is_throttled_per_ip(api, settings):
    settings.ATTEMPT_THROTTLES = {**settings.ATTEMPT_THROTTLES, "register": (2, 3600)}
    answers = [
        api.post(
            "/api/v1/auth/register",
            {"username": f"newbie{n}", "password": "a-long-enough-pass-77"},
            format="json",
            REMOTE_ADDR="10.5.0.1",
        )
        for n in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json()["code"] == -1003 and "Retry-After" in answers[2]


def test_password_changes_are_throttled_per_user(api, settings):
    settings.ATTEMPT_THROTTLES = {**settings.ATTEMPT_THROTTLES, "password": (2, 300)}
    user = UserFactory()
    api.force_authenticate(user=user)
    codes = [
        api.post(
            "/api/v1/me/password",
            {"old_password": "not-it", "new_password": "another-long-pass-42"},
            format="json",
        ).status_code
        for _ in range(3)
    ]
    assert codes == [400, 400, 429]


def test_the_admin_login_is_throttled_like_the_api_login(settings):
    settings.LOGIN_THROTTLE = {**settings.LOGIN_THROTTLE, "account_limit": 2}
    UserFactory(username="ops", is_staff=True)
    client = Client()
    for _ in range(2):
        page = client.post(
            "/admin/login/", {"username": "ops", "password": "wrong", "otp": ""}
        )
        assert "Too many" not in page.content.decode()
    page = client.post("/admin/login/", {"username": "ops", "password": PASSWORD})
    assert page.status_code == 200
    assert "Too many login attempts" in page.content.decode()
    assert "_auth_user_id" not in client.session


class _DeadCache:
    """The cache as django-redis answers with Redis down and IGNORE_EXCEPTIONS:
    every call returns None."""

    def add(self, *args, **kwargs):
        return None

    def incr(self, *args, **kwargs):
        return None

    def set(self, *args, **kwargs):
        return None

    def delete(self, *args, **kwargs):
        return None


def test_login_throttling_holds_with_redis_down(api, settings, monkeypatch):
    settings.LOGIN_THROTTLE = {**settings.LOGIN_THROTTLE, "account_limit": 3}
    monkeypatch.setattr(throttling, "cache", _DeadCache())
    throttling.local_counts_clear()
    user = UserFactory()
    codes = [
        api.post(
            "/api/v1/auth/login",
            {"username": user.username, "password": "wrong"},
            format="json",
            REMOTE_ADDR="10.5.1.1",
        ).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    cache.clear()


# --- input parsing -----------------------------------------------------------------


@pytest.mark.parametrize("window", ["²", "1²d", "٣d", "３h"])
def test_non_ascii_digits_in_window_size_are_a_4xx(symbols, window):
    response = Client().get(
        "/api/v3/ticker", {"symbol": "BTCUSDT", "windowSize": window}
    )
    assert response.status_code == 400
    assert response.json()["code"] == -1130


def test_deeply_nested_json_in_symbols_is_a_4xx(symbols):
    response = Client().get("/api/v3/ticker/price", {"symbols": "[" * 100_000})
    assert response.status_code == 400
    assert set(response.json()) == {"code", "msg"}


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh"]
)
def test_deeply_nested_json_in_an_api_v1_body_is_a_4xx(path):
    response = Client().post(
        path, "[" * 20_000 + "]" * 20_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == -1100


def test_admin_search_with_non_ascii_digits_is_not_a_500(db):
    client = admin_login(Client(), UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/trading/order/", {"q": "²"})
    assert response.status_code == 200


# --- error bodies ------------------------------------------------------------------


def test_a_bad_host_is_answered_in_binance_shape(settings):
    settings.ALLOWED_HOSTS = ["exchange.example"]
    response = Client().get("/api/v3/ping", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json() == {"code": -1100, "msg": "Invalid Host header."}


def test_validation_messages_carry_no_python_reprs(api):
    api.force_authenticate(user=UserFactory())
    response = api.post(
        "/api/v1/api-keys", {"ipAllowlist": ["not-an-ip"]}, format="json"
    )
    assert response.status_code == 400
    assert "'not-an-ip'" not in response.json()["msg"]
    assert "ErrorDetail" not in response.json()["msg"]


def test_a_bearer_for_a_missing_route_is_binance_shaped(alice):
    answer = Bearer(alice.bearer.token).get("/api/v3/nothing-here")
    assert answer.status == 404 and set(answer.body) == {"code", "msg"}
