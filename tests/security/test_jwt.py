"""JWT bearer tokens: only a current HS256 access token signed with our key, for an
active user, opens the API. Everything else is 401 -1002, on /api/v1 and /api/v3
alike."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services as account_services
from tests.security.clients import Bearer

PROTECTED = ["/api/v1/me", "/api/v1/api-keys", "/api/v3/account", "/api/v3/openOrders"]
KEY = settings.SIMPLE_JWT["SIGNING_KEY"]


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def assert_refused_everywhere(token: str) -> None:
    for path in PROTECTED:
        answer = Bearer(token).get(path)
        assert answer.status == 401, (path, answer.body)
        assert answer.body["code"] == -1002, (path, answer.body)


@pytest.fixture
def access(alice) -> str:
    return alice.bearer.token


def test_a_valid_access_token_opens_every_protected_endpoint(access):
    for path in PROTECTED:
        assert Bearer(access).get(path).status == 200, path


def test_alg_none_is_refused(access):
    claims = claims_of(access)
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert_refused_everywhere(unsigned)
    # With the signature kept from the real token, too.
    signature = access.split(".")[2]
    assert_refused_everywhere(
        f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.{signature}"
    )


def test_a_token_signed_with_another_key_is_refused(access):
    forged = jwt.encode(
        claims_of(access), "another-key-" + "0123456789" * 4, algorithm="HS256"
    )
    assert_refused_everywhere(forged)


def test_another_algorithm_with_our_key_is_refused(access):
    """Only HS256 is accepted, even when the signature is right for its algorithm."""
    for algorithm in ("HS384", "HS512"):
        assert_refused_everywhere(
            jwt.encode(claims_of(access), KEY, algorithm=algorithm)
        )


def test_a_tampered_payload_is_refused(alice, bob, access):
    header, _, signature = access.split(".")
    claims = {**claims_of(access), "user_id": str(bob.user.id)}
    assert_refused_everywhere(f"{header}.{b64(claims)}.{signature}")


def test_an_expired_token_is_refused(access):
    claims = {**claims_of(access), "exp": int(time.time()) - 1}
    assert_refused_everywhere(jwt.encode(claims, KEY, algorithm="HS256"))


def test_a_token_without_expiry_or_type_is_refused(access):
    for missing in ("exp", "token_type", "user_id", "jti"):
        claims = {k: v for k, v in claims_of(access).items() if k != missing}
        assert_refused_everywhere(jwt.encode(claims, KEY, algorithm="HS256"))


def test_a_refresh_token_is_not_an_access_token(alice):
    refresh = RefreshToken.for_user(alice.user)
    assert_refused_everywhere(str(refresh))


def test_an_access_token_is_not_a_refresh_token(alice, access):
    answer = Bearer("").post("/api/v1/auth/refresh", None, f"refresh={access}")
    assert answer.status == 401 and answer.body["code"] == -1002


def test_garbage_and_odd_headers_are_refused(access):
    for token in ("", "x", "a.b.c", access + "x", access.replace(".", "", 1)):
        assert_refused_everywhere(token)
    for header in (f"Token {access}", f"bearer{access}", f"Bearer  {access} extra"):
        answer = Bearer("").get("/api/v3/account", HTTP_AUTHORIZATION=header)
        assert answer.status == 401, header


def test_a_disabled_users_token_is_refused(alice, access):
    account_services.user_disable(user_id=alice.user.id)
    assert_refused_everywhere(access)


def test_a_deleted_users_token_is_refused(db, symbols):
    from tests.factories import UserFactory
    from tests.security.clients import access_token

    user = UserFactory()
    token = access_token(user)
    user.delete()
    assert_refused_everywhere(token)


def test_a_logged_out_refresh_token_cannot_refresh(alice):
    refresh = str(RefreshToken.for_user(alice.user))
    out = Bearer("").post("/api/v1/auth/logout", None, f"refresh={refresh}")
    assert out.status == 205
    again = Bearer("").post("/api/v1/auth/refresh", None, f"refresh={refresh}")
    assert again.status == 401 and again.body["code"] == -1002


def test_an_access_token_dies_with_a_password_change(alice, access):
    from tests.factories import PASSWORD

    changed = Bearer(access).post(
        "/api/v1/me/password",
        None,
        f"old_password={PASSWORD}&new_password=another-Passw0rd-2026",
    )
    assert changed.status == 204
    assert_refused_everywhere(access)
