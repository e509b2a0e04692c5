"""Users: register, login, refresh, logout, me, password; throttling; JWT checks."""

import time
import warnings

import jwt
import pytest
from django.conf import settings
from django.core.cache.backends.base import CacheKeyWarning
from django.test import override_settings

from accounts.models import User
from tests.factories import PASSWORD, UserFactory, funded_user

pytestmark = pytest.mark.django_db


def login(api, username, password=PASSWORD, ip="10.0.0.1"):
    return api.post(
        "/api/v1/auth/login",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=ip,
    )


def bearer(api, token):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_register_then_login_then_me(api, assets):
    response = api.post(
        "/api/v1/auth/register",
        {
            "username": "carol",
            "password": "a-long-enough-pass-77",
            "email": "c@example.com",
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["username"] == "carol"
    assert "password" not in response.json()
    tokens = login(api, "carol", "a-long-enough-pass-77").json()
    assert set(tokens) == {"access", "refresh"}
    bearer(api, tokens["access"])
    me = api.get("/api/v1/me").json()
    assert me["username"] == "carol" and me["balances"] == []


def test_register_refuses_weak_passwords_and_taken_names(api):
    UserFactory(username="dave")
    weak = api.post(
        "/api/v1/auth/register",
        {"username": "erin", "password": "12345678"},
        format="json",
    )
    assert weak.status_code == 400
    assert weak.json()["code"] == -1130
    taken = api.post(
        "/api/v1/auth/register",
        {"username": "dave", "password": "a-long-enough-pass-77"},
        format="json",
    )
    assert taken.status_code == 400 and taken.json()["code"] == -1130
    missing = api.post("/api/v1/auth/register", {"username": "frank"}, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == -1102


def test_passwords_are_hashed_with_argon2(api):
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]
    ):
        api.post(
            "/api/v1/auth/register",
            {"username": "gina", "password": "a-long-enough-pass-77"},
            format="json",
        )
    assert User.objects.get(username="gina").password.startswith("argon2")


def test_wrong_password_is_401(api):
    user = UserFactory()
    response = login(api, user.username, "wrong-password")
    assert response.status_code == 401 and response.json()["code"] == -1002


def test_refresh_rotates_and_the_old_refresh_token_is_dead(api):
    user = UserFactory()
    first = login(api, user.username).json()
    rotated = api.post(
        "/api/v1/auth/refresh", {"refresh": first["refresh"]}, format="json"
    )
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first["refresh"]
    again = api.post(
        "/api/v1/auth/refresh", {"refresh": first["refresh"]}, format="json"
    )
    assert again.status_code == 401 and again.json()["code"] == -1002


def test_logout_blacklists_the_refresh_token(api):
    user = UserFactory()
    tokens = login(api, user.username).json()
    out = api.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json")
    assert out.status_code == 205
    after = api.post(
        "/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    assert after.status_code == 401


def test_expired_and_tampered_access_tokens_are_refused(api):
    user = UserFactory()
    access = login(api, user.username).json()["access"]
    header, payload, signature = access.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    bearer(api, tampered)
    assert api.get("/api/v1/me").status_code == 401
    claims = jwt.decode(access, options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 10
    expired = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
    bearer(api, expired)
    response = api.get("/api/v1/me")
    assert response.status_code == 401 and response.json()["code"] == -1002
    # The challenge tells a client to refresh (RFC 6750), unlike other 401s.
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    claims["exp"] = int(time.time()) + 600
    unsigned = jwt.encode(claims, None, algorithm="none")
    bearer(api, unsigned)
    assert api.get("/api/v1/me").status_code == 401
    wrong_key = jwt.encode(
        claims, "another-key-entirely-0123456789abcdef", algorithm="HS256"
    )
    bearer(api, wrong_key)
    assert api.get("/api/v1/me").status_code == 401
    api.credentials()
    assert api.get("/api/v1/me").status_code == 401


def test_change_password_requires_the_old_one_and_revokes_refresh_tokens(api):
    user = UserFactory()
    tokens = login(api, user.username).json()
    bearer(api, tokens["access"])
    wrong = api.post(
        "/api/v1/me/password",
        {"old_password": "nope", "new_password": "another-long-pass-88"},
        format="json",
    )
    assert wrong.status_code == 400
    ok = api.post(
        "/api/v1/me/password",
        {"old_password": PASSWORD, "new_password": "another-long-pass-88"},
        format="json",
    )
    assert ok.status_code == 204
    api.credentials()
    assert login(api, user.username).status_code == 401
    assert login(api, user.username, "another-long-pass-88").status_code == 200
    stale = api.post(
        "/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    assert stale.status_code == 401


def test_login_is_throttled_per_account_with_retry_after(api):
    user = UserFactory()
    limit = settings.LOGIN_THROTTLE["account_limit"]
    for attempt in range(limit):
        assert (
            login(api, user.username, "bad", ip=f"10.1.0.{attempt}").status_code == 401
        )
    blocked = login(api, user.username, ip="10.2.0.1")
    assert blocked.status_code == 429
    assert blocked.json()["code"] == -1003
    assert int(blocked["Retry-After"]) >= 1


def test_any_login_name_is_throttled_under_a_safe_cache_key(api):
    """Names with spaces or control characters count like any other, and the
    cache never sees them in a key."""
    name = "a name with spaces\x7f and \U000dbc93"
    limit = settings.LOGIN_THROTTLE["account_limit"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        for attempt in range(limit):
            assert login(api, name, "bad", ip=f"10.3.0.{attempt}").status_code == 401
        blocked = login(api, name.upper(), "bad", ip="10.4.0.1")
    assert blocked.status_code == 429 and blocked.json()["code"] == -1003


def test_login_is_throttled_per_ip(api):
    limit = settings.LOGIN_THROTTLE["ip_limit"]
    for attempt in range(limit):
        login(api, f"nobody{attempt}", "bad", ip="10.9.9.9")
    blocked = login(api, "someone-else", "bad", ip="10.9.9.9")
    assert blocked.status_code == 429 and "Retry-After" in blocked


def test_me_shows_only_my_own_balances(api, assets):
    mine = funded_user(BTC="1")
    funded_user(BTC="7", ETH="3")
    bearer(api, login(api, mine.username).json()["access"])
    balances = api.get("/api/v1/me").json()["balances"]
    assert balances == [{"asset": "BTC", "free": "1.00000000", "locked": "0.00000000"}]
