"""The security log: what happened to an account, shown to its owner through
the API and to staff in the back office, read-only."""

import pyotp
import pytest
from django.test import Client

from accounts.models import SecurityEvent
from tests.factories import PASSWORD, UserFactory, admin_login

pytestmark = pytest.mark.django_db

IP = "10.8.0.7"


def events(api, **params):
    response = api.get("/api/v1/me/security-log", params, REMOTE_ADDR=IP)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_owner_sees_each_security_event_newest_first(api):
    user = UserFactory()
    SecurityEvent.objects.all().delete()  # the factory's own password set
    assert (
        api.post(
            "/api/v1/auth/login",
            {"username": user.username, "password": "wrong-one"},
            format="json",
            REMOTE_ADDR=IP,
        ).status_code
        == 401
    )
    login = api.post(
        "/api/v1/auth/login",
        {"username": user.username, "password": PASSWORD},
        format="json",
        REMOTE_ADDR=IP,
    )
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
    secret = api.post("/api/v1/me/2fa/enrol", REMOTE_ADDR=IP).json()["secret"]
    totp = pyotp.TOTP(secret)
    codes = api.post(
        "/api/v1/me/2fa/confirm",
        {"otp": totp.now()},
        format="json",
        REMOTE_ADDR=IP,
    ).json()["recoveryCodes"]
    key = api.post(
        "/api/v1/api-keys", {"label": "bot", "otp": codes[0]}, format="json"
    ).json()
    api.delete(f"/api/v1/api-keys/{key['id']}", REMOTE_ADDR=IP)
    changed = api.post(
        "/api/v1/me/password",
        {
            "old_password": PASSWORD,
            "new_password": "a-brand-new-pass-73",
            "otp": codes[1],
        },
        format="json",
        REMOTE_ADDR=IP,
    )
    assert changed.status_code == 204
    api.force_authenticate(user=user)
    api.post("/api/v1/me/2fa/disable", {"otp": codes[2]}, format="json")

    log = events(api)
    assert [e["event"] for e in log] == [
        "TWO_FACTOR_DISABLED",
        "PASSWORD_CHANGED",
        "API_KEY_REVOKED",
        "API_KEY_CREATED",
        "TWO_FACTOR_ENABLED",
        "LOGIN",
        "LOGIN_FAILED",
    ]
    assert log[-1]["ip"] == IP and log[-1]["detail"] == "password"
    assert set(log[0]) == {"time", "event", "ip", "detail"}
    assert "bot" in log[3]["detail"]
    assert "1 refresh token(s) ended" in log[1]["detail"]
    assert [e["event"] for e in events(api, limit="2")] == [
        "TWO_FACTOR_DISABLED",
        "PASSWORD_CHANGED",
    ]


def test_nobody_sees_another_users_log(api):
    alice, bob = UserFactory(), UserFactory()
    SecurityEvent.objects.create(user=bob, kind="LOGIN")
    api.force_authenticate(user=alice)
    assert all(e["event"] != "LOGIN" for e in events(api))


@pytest.mark.parametrize("limit", ["0", "501", "²", "١٠", "1e2", "-1"])
def test_the_limit_is_checked(api, limit):
    api.force_authenticate(user=UserFactory())
    response = api.get("/api/v1/me/security-log", {"limit": limit})
    assert response.status_code == 400
    assert response.json()["code"] == -1130


def test_a_failed_login_of_an_unknown_name_logs_nothing_and_reads_the_same(api):
    user = UserFactory()
    answers = [
        api.post(
            "/api/v1/auth/login",
            {"username": name, "password": "wrong-one"},
            format="json",
        ).json()
        for name in (user.username, "nobody-by-that-name")
    ]
    assert answers[0] == answers[1]


def test_staff_read_the_log_in_the_back_office_and_cannot_change_it():
    user = UserFactory(username="victim")
    event = SecurityEvent.objects.create(user=user, kind="LOGIN", ip="10.0.0.9")
    client = admin_login(Client(), UserFactory(is_staff=True, is_superuser=True))
    page = client.get("/admin/accounts/securityevent/?q=victim")
    assert page.status_code == 200
    assert "10.0.0.9" in page.content.decode()
    assert client.get("/admin/accounts/securityevent/add/").status_code == 403
    change = f"/admin/accounts/securityevent/{event.pk}/change/"
    assert client.post(change, {"kind": "LOGIN_FAILED"}).status_code == 403
    delete = f"/admin/accounts/securityevent/{event.pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.kind == "LOGIN"
