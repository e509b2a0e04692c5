"""API keys: management endpoints, encryption at rest, and Binance-style signing."""

import time
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.test import override_settings
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts import services
from accounts.authentication import SIGNED_AUTHENTICATION, CanRead, CanTrade
from accounts.models import ApiKey
from tests.factories import PASSWORD, UserFactory
from tools.binance_client import sign

pytestmark = pytest.mark.django_db


class TradeView(APIView):
    authentication_classes = SIGNED_AUTHENTICATION
    permission_classes = [CanTrade]

    def post(self, request):
        return Response({"user": request.user.id})


class ReadView(APIView):
    authentication_classes = SIGNED_AUTHENTICATION
    permission_classes = [CanRead]

    def get(self, request):
        return Response({"user": request.user.id})


factory = APIRequestFactory()


def now_ms() -> int:
    return int(time.time() * 1000)


def signed_post(key, secret, params, *, ip="127.0.0.1", body_params=None, sig=None):
    query = urlencode(params)
    body = urlencode(body_params or {})
    signature = sig or sign(secret, query + body)
    path = f"/x?{query}&signature={signature}" if query else f"/x?signature={signature}"
    request = factory.post(
        path,
        data=body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_MBX_APIKEY=key,
        REMOTE_ADDR=ip,
    )
    return TradeView.as_view()(request)


def make_key(user=None, permissions=("read", "trade"), ips=()):
    user = user or UserFactory()
    key, secret = services.apikey_create(
        user_id=user.id,
        label="bot",
        permissions=list(permissions),
        ip_allowlist=list(ips),
    )
    return user, key, secret


def test_a_correctly_signed_request_authenticates_as_the_key_owner():
    user, key, secret = make_key()
    response = signed_post(
        key.key, secret, {"symbol": "BTCUSDT", "timestamp": now_ms()}
    )
    assert response.status_code == 200 and response.data == {"user": user.id}


class WhoView(APIView):
    authentication_classes = SIGNED_AUTHENTICATION
    permission_classes = [CanTrade]

    def post(self, request):
        user = request.user
        return Response(
            {
                "id": user.id,
                "username": user.username,
                "is_authenticated": user.is_authenticated,
                "email": user.email,  # not in the key's record: read when asked
                "adding": user._state.adding,
            }
        )


def test_the_signed_user_is_the_saved_owner_with_every_field_readable():
    user, key, secret = make_key()
    user.email = "owner@example.com"
    user.save(update_fields=["email"])
    query = urlencode({"timestamp": now_ms()})
    request = factory.post(
        f"/x?{query}&signature={sign(secret, query)}",
        HTTP_X_MBX_APIKEY=key.key,
        REMOTE_ADDR="127.0.0.1",
    )
    response = WhoView.as_view()(request)
    assert response.status_code == 200
    assert response.data == {
        "id": user.id,
        "username": user.username,
        "is_authenticated": True,
        "email": "owner@example.com",
        "adding": False,
    }


def test_signature_over_query_and_body_together():
    user, key, secret = make_key()
    response = signed_post(
        key.key,
        secret,
        {"symbol": "BTCUSDT"},
        body_params={"side": "BUY", "timestamp": now_ms(), "recvWindow": 5000},
    )
    assert response.status_code == 200


def test_a_wrong_signature_is_1022():
    _, key, secret = make_key()
    response = signed_post(key.key, secret, {"timestamp": now_ms()}, sig="0" * 64)
    assert response.status_code == 400 and response.data["code"] == -1022
    tampered = signed_post(key.key, "another-secret", {"timestamp": now_ms()})
    assert tampered.data["code"] == -1022


def test_timestamp_too_old_and_too_far_ahead_are_1021():
    _, key, secret = make_key()
    old = signed_post(key.key, secret, {"timestamp": now_ms() - 6000})
    assert old.status_code == 400 and old.data["code"] == -1021
    assert "recvWindow" in old.data["msg"]
    ahead = signed_post(key.key, secret, {"timestamp": now_ms() + 5000})
    assert ahead.data["code"] == -1021 and "ahead" in ahead.data["msg"]
    # A replay of a once-valid request fails once its window has passed.
    widened = signed_post(
        key.key, secret, {"timestamp": now_ms() - 6000, "recvWindow": 10000}
    )
    assert widened.status_code == 200
    too_wide = signed_post(
        key.key, secret, {"timestamp": now_ms(), "recvWindow": 60001}
    )
    assert too_wide.status_code == 400 and too_wide.data["code"] == -1131


def test_missing_timestamp_or_signature_is_1102():
    _, key, secret = make_key()
    no_ts = signed_post(key.key, secret, {"symbol": "BTCUSDT"})
    assert no_ts.data["code"] == -1102 and "timestamp" in no_ts.data["msg"]
    request = factory.post(
        f"/x?timestamp={now_ms()}", HTTP_X_MBX_APIKEY=key.key, REMOTE_ADDR="127.0.0.1"
    )
    no_sig = TradeView.as_view()(request)
    assert no_sig.data["code"] == -1102 and "signature" in no_sig.data["msg"]


def test_malformed_unknown_and_revoked_keys():
    user, key, secret = make_key()
    bad_format = signed_post("not a key!", secret, {"timestamp": now_ms()})
    assert bad_format.status_code == 401 and bad_format.data["code"] == -2014
    unknown = signed_post("A" * 64, secret, {"timestamp": now_ms()})
    assert unknown.status_code == 401 and unknown.data["code"] == -2015
    assert signed_post(key.key, secret, {"timestamp": now_ms()}).status_code == 200
    services.apikey_revoke(user_id=user.id, key_id=key.id)
    revoked = signed_post(key.key, secret, {"timestamp": now_ms()})
    assert revoked.status_code == 401 and revoked.data["code"] == -2015


def test_a_read_only_key_cannot_trade():
    _, key, secret = make_key(permissions=("read",))
    response = signed_post(key.key, secret, {"timestamp": now_ms()})
    assert response.status_code == 401 and response.data["code"] == -2015
    query = urlencode({"timestamp": now_ms()})
    request = factory.get(
        f"/x?{query}&signature={sign(secret, query)}",
        HTTP_X_MBX_APIKEY=key.key,
        REMOTE_ADDR="127.0.0.1",
    )
    assert ReadView.as_view()(request).status_code == 200


def test_ip_allowlist():
    _, key, secret = make_key(ips=["10.0.0.0/24"])
    inside = signed_post(key.key, secret, {"timestamp": now_ms()}, ip="10.0.0.7")
    assert inside.status_code == 200
    outside = signed_post(key.key, secret, {"timestamp": now_ms()}, ip="10.0.1.7")
    assert outside.status_code == 401 and outside.data["code"] == -2015


def test_secret_is_encrypted_at_rest_and_shown_once(api):
    user = UserFactory()
    tokens = api.post(
        "/api/v1/auth/login",
        {"username": user.username, "password": PASSWORD},
        format="json",
    ).json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    created = api.post(
        "/api/v1/api-keys",
        {"label": "bot", "permissions": ["read", "trade"], "ipAllowlist": ["10.0.0.1"]},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert len(body["apiKey"]) == 64 and len(body["secretKey"]) == 64
    assert body["permissions"] == ["read", "trade"]
    assert body["ipAllowlist"] == ["10.0.0.1/32"]
    stored = ApiKey.objects.get(key=body["apiKey"])
    assert body["secretKey"] not in stored.secret_encrypted
    listed = api.get("/api/v1/api-keys").json()
    assert [k["apiKey"] for k in listed] == [body["apiKey"]]
    assert "secretKey" not in listed[0]
    # Another encryption key cannot read the stored secret: a dump alone is useless.
    from accounts import crypto

    crypto._fernet.cache_clear()
    with override_settings(API_KEY_ENCRYPTION_KEY="A" * 43 + "="):
        assert crypto.decrypt(stored.secret_encrypted) is None
    crypto._fernet.cache_clear()
    assert crypto.decrypt(stored.secret_encrypted) == body["secretKey"]


def test_bad_api_key_requests(api):
    user = UserFactory()
    tokens = api.post(
        "/api/v1/auth/login",
        {"username": user.username, "password": PASSWORD},
        format="json",
    ).json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    bad_perm = api.post(
        "/api/v1/api-keys", {"permissions": ["withdraw"]}, format="json"
    )
    assert bad_perm.status_code == 400 and bad_perm.json()["code"] == -1130
    bad_ip = api.post("/api/v1/api-keys", {"ipAllowlist": ["not-an-ip"]}, format="json")
    assert bad_ip.status_code == 400 and bad_ip.json()["code"] == -1130


def test_one_user_cannot_see_or_revoke_anothers_keys(api):
    owner, key, _ = make_key()
    intruder = UserFactory()
    tokens = api.post(
        "/api/v1/auth/login",
        {"username": intruder.username, "password": PASSWORD},
        format="json",
    ).json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get("/api/v1/api-keys").json() == []
    response = api.delete(f"/api/v1/api-keys/{key.id}")
    assert response.status_code == 404
    missing = api.delete("/api/v1/api-keys/999999")
    assert missing.status_code == 404 and missing.json() == response.json()
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_key_cannot_manage_keys(api):
    _, key, secret = make_key()
    query = urlencode({"timestamp": now_ms()})
    response = api.get(
        f"/api/v1/api-keys?{query}&signature={sign(secret, query)}",
        HTTP_X_MBX_APIKEY=key.key,
    )
    assert response.status_code == 401


def revoke_elsewhere(key) -> None:
    """What a revoke in another process does: the row, the shared record and the
    key generation change; this process's memory is not told."""
    ApiKey.objects.filter(id=key.id).update(revoked_at="2026-01-01T00:00:00Z")
    services.cache.delete(services.apikey_cache_key(key.key))
    services.cache.set(services.APIKEY_GENERATION, "changed elsewhere", None)


def a_check_is_due() -> None:
    """As if ``key_local_seconds`` had passed since this process last read the
    key generation."""
    services.apikey_generation[1] -= 1.0


def test_other_processes_drop_a_revoked_key_within_key_local_seconds(settings):
    """Key records are remembered in process memory; every ``key_local_seconds``
    the process reads the key generation, which any revoke changes."""
    user, key, secret = make_key()
    assert signed_post(key.key, secret, {"timestamp": now_ms()}).status_code == 200
    revoke_elsewhere(key)
    # Still remembered here: the generation was read less than a second ago.
    assert signed_post(key.key, secret, {"timestamp": now_ms()}).status_code == 200
    a_check_is_due()
    revoked = signed_post(key.key, secret, {"timestamp": now_ms()})
    assert revoked.status_code == 401 and revoked.data["code"] == -2015


def test_remembered_keys_cost_one_cache_read_a_second_in_all(settings):
    """While no key is revoked, a process reads the key generation once every
    ``key_local_seconds`` for all keys, and no key's record."""
    keys = [make_key() for _ in range(3)]
    for _, key, secret in keys:
        assert signed_post(key.key, secret, {"timestamp": now_ms()}).status_code == 200
    read = services.cache.get
    with mock.patch.object(services.cache, "get", wraps=read) as get:
        for _, key, secret in keys:
            response = signed_post(key.key, secret, {"timestamp": now_ms()})
            assert response.status_code == 200
        assert get.call_count == 0
        a_check_is_due()
        for _, key, secret in keys:
            response = signed_post(key.key, secret, {"timestamp": now_ms()})
            assert response.status_code == 200
        assert [c.args[0] for c in get.call_args_list] == [services.APIKEY_GENERATION]


def test_a_revoke_here_changes_the_generation_other_processes_read(settings):
    _, key, secret = make_key()
    before = services.cache.get(services.APIKEY_GENERATION)
    services.apikey_revoke(user_id=key.user_id, key_id=key.id)
    assert services.cache.get(services.APIKEY_GENERATION) not in (None, before)
    revoked = signed_post(key.key, secret, {"timestamp": now_ms()})
    assert revoked.status_code == 401 and revoked.data["code"] == -2015


def test_when_the_generation_cannot_be_read_records_last_one_check(settings):
    """With the cache down a revoke cannot be announced: each process then
    re-reads every key at each check, as it did before generations."""
    user, key, secret = make_key()
    assert signed_post(key.key, secret, {"timestamp": now_ms()}).status_code == 200
    ApiKey.objects.filter(id=key.id).update(revoked_at="2026-01-01T00:00:00Z")
    services.cache.delete(services.apikey_cache_key(key.key))
    a_check_is_due()
    with mock.patch.object(services.cache, "get", return_value=None):
        revoked = signed_post(key.key, secret, {"timestamp": now_ms()})
    assert revoked.status_code == 401 and revoked.data["code"] == -2015


def test_with_key_local_seconds_zero_every_request_reads_the_shared_record(settings):
    settings.SIGNED_REQUEST = {**settings.SIGNED_REQUEST, "key_local_seconds": 0}
    user, key, secret = make_key()
    assert signed_post(key.key, secret, {"timestamp": now_ms()}).status_code == 200
    assert key.key not in services.apikey_records
    ApiKey.objects.filter(id=key.id).update(revoked_at="2026-01-01T00:00:00Z")
    services.cache.delete(services.apikey_cache_key(key.key))
    revoked = signed_post(key.key, secret, {"timestamp": now_ms()})
    assert revoked.status_code == 401 and revoked.data["code"] == -2015
