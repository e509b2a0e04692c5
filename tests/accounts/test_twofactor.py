"""Two-factor: enrolment, recovery codes, and the code asked at login, to create an
API key, to change the password, to disable two-factor, and in the back office."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from django.test import Client

from accounts import twofactor
from accounts.models import ApiKey, RecoveryCode, TwoFactor
from tests.factories import PASSWORD, UserFactory, admin_login, twofactor_on

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    """The TOTP clock, moved a time step at a time."""

    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def step(self, steps: int = 1):
        self.now += timedelta(seconds=30 * steps)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(twofactor, "clock", clock)
    return clock


def code(secret: str, clock: Clock) -> str:
    return pyotp.TOTP(secret).at(clock.now)


def login(api, username, password=PASSWORD, otp=None):
    body = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    return api.post("/api/v1/auth/login", body, format="json", REMOTE_ADDR="10.9.0.1")


def bearer_for(api, user):
    api.force_authenticate(user=user)
    return api


def enrol(api, clock) -> tuple[str, list[str]]:
    started = api.post("/api/v1/me/2fa/enrol", format="json")
    assert started.status_code == 200, started.content
    body = started.json()
    secret = body["secret"]
    assert body["otpauthUri"].startswith("otpauth://totp/")
    assert f"secret={secret}" in body["otpauthUri"]
    assert body["qrSvg"].startswith("<svg") and "<path" in body["qrSvg"]
    confirmed = api.post(
        "/api/v1/me/2fa/confirm", {"otp": code(secret, clock)}, format="json"
    )
    assert confirmed.status_code == 200, confirmed.content
    return secret, confirmed.json()["recoveryCodes"]


def test_enrol_confirm_and_the_codes_are_kept_hashed(api, clock):
    user = UserFactory()
    bearer_for(api, user)
    assert api.get("/api/v1/me").json()["twoFactorEnabled"] is False
    secret, codes = enrol(api, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert api.get("/api/v1/me").json()["twoFactorEnabled"] is True
    stored = set(RecoveryCode.objects.filter(user=user).values_list("code_digest"))
    assert len(stored) == 10
    assert not any(c in str(stored) for c in codes)
    assert secret not in TwoFactor.objects.get(user=user).secret_encrypted
    # Enrolling again while it is on is refused: disable first.
    again = api.post("/api/v1/me/2fa/enrol", format="json")
    assert again.status_code == 400 and again.json()["code"] == -1130


def test_a_wrong_code_does_not_confirm(api, clock):
    user = UserFactory()
    bearer_for(api, user)
    api.post("/api/v1/me/2fa/enrol", format="json")
    wrong = api.post("/api/v1/me/2fa/confirm", {"otp": "000000"}, format="json")
    assert wrong.status_code == 401
    assert wrong.json() == {"code": -1002, "msg": "Invalid two-factor code."}
    # Not the token's fault: no challenge, so a client does not refresh and retry.
    assert "WWW-Authenticate" not in wrong
    assert not twofactor.twofactor_enabled(user_id=user.id)


def test_login_asks_for_the_code_and_takes_it_once(api, clock):
    user = UserFactory()
    secret = twofactor_on_at(user, clock)
    clock.step()
    needed = login(api, user.username)
    assert needed.status_code == 401
    assert needed.json()["code"] == -1102
    assert "'otp'" in needed.json()["msg"]
    # The password is checked first: a wrong one never reveals two-factor.
    wrong_password = login(api, user.username, "nope", otp=code(secret, clock))
    assert wrong_password.json()["msg"] == "Invalid username or password."
    ok = login(api, user.username, otp=code(secret, clock))
    assert ok.status_code == 200 and set(ok.json()) == {"access", "refresh"}
    replay = login(api, user.username, otp=code(secret, clock))
    assert replay.status_code == 401 and replay.json()["code"] == -1002
    clock.step()
    assert login(api, user.username, otp=code(secret, clock)).status_code == 200


def test_a_recovery_code_works_once(api, clock):
    user = UserFactory()
    bearer_for(api, user)
    _, codes = enrol(api, clock)
    api.force_authenticate(user=None)
    assert login(api, user.username, otp=codes[0].upper()).status_code == 200
    assert login(api, user.username, otp=codes[0]).status_code == 401
    assert login(api, user.username, otp=codes[1]).status_code == 200


def test_creating_a_key_changing_the_password_and_disabling_need_a_code(api, clock):
    user = UserFactory()
    bearer_for(api, user)
    secret, _ = enrol(api, clock)
    clock.step()

    refused = api.post("/api/v1/api-keys", {"label": "bot"}, format="json")
    assert refused.status_code == 401 and refused.json()["code"] == -1102
    assert not ApiKey.objects.filter(user=user).exists()
    created = api.post(
        "/api/v1/api-keys", {"label": "bot", "otp": code(secret, clock)}, format="json"
    )
    assert created.status_code == 201
    clock.step()

    change = {"old_password": PASSWORD, "new_password": "another-long-pass-42"}
    refused = api.post("/api/v1/me/password", change, format="json")
    assert refused.status_code == 401 and refused.json()["code"] == -1102
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    changed = api.post(
        "/api/v1/me/password", {**change, "otp": code(secret, clock)}, format="json"
    )
    assert changed.status_code == 204
    clock.step()

    refused = api.post("/api/v1/me/2fa/disable", {"otp": "123456"}, format="json")
    assert refused.status_code == 401
    assert twofactor.twofactor_enabled(user_id=user.id)
    disabled = api.post(
        "/api/v1/me/2fa/disable", {"otp": code(secret, clock)}, format="json"
    )
    assert disabled.status_code == 204
    assert not twofactor.twofactor_enabled(user_id=user.id)
    assert not RecoveryCode.objects.filter(user=user).exists()


def test_wrong_codes_are_throttled(api, clock, settings):
    settings.ATTEMPT_THROTTLES = {**settings.ATTEMPT_THROTTLES, "otp": (4, 300)}
    user = UserFactory()
    secret = twofactor_on_at(user, clock)  # the confirming code is one attempt
    clock.step()
    for _ in range(3):
        assert login(api, user.username, otp="111111").status_code == 401
    throttled = login(api, user.username, otp=code(secret, clock))
    assert throttled.status_code == 429 and throttled.json()["code"] == -1003


def test_regenerated_recovery_codes_replace_the_old(api, clock):
    user = UserFactory()
    bearer_for(api, user)
    secret, old = enrol(api, clock)
    clock.step()
    new = api.post(
        "/api/v1/me/2fa/recovery-codes", {"otp": code(secret, clock)}, format="json"
    ).json()["recoveryCodes"]
    assert set(new).isdisjoint(old)
    api.force_authenticate(user=None)
    assert login(api, user.username, otp=old[0]).status_code == 401
    assert login(api, user.username, otp=new[0]).status_code == 200


def twofactor_on_at(user, clock) -> str:
    enrolment = twofactor.twofactor_enrol_start(user=user)
    twofactor.twofactor_enrol_confirm(user=user, otp=code(enrolment.secret, clock))
    return enrolment.secret


# --- the back office ------------------------------------------------------------


def admin_post_login(client, username, otp=""):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": PASSWORD, "otp": otp, "next": "/admin/"},
    )


def test_staff_without_two_factor_are_sent_to_enrol_and_reach_nothing_else(clock):
    UserFactory(username="ops", is_staff=True, is_superuser=True)
    client = Client()
    response = admin_post_login(client, "ops")
    assert response.status_code == 302
    assert response["Location"] == "/admin/2fa/enrol/"
    assert client.get("/admin/").status_code == 302
    page = client.get("/admin/2fa/enrol/")
    assert page.status_code == 200
    secret = page.context["secret"]
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()
    wrong = client.post("/admin/2fa/enrol/", {"otp": "000000"})
    assert "Invalid two-factor code." in wrong.content.decode()
    done = client.post("/admin/2fa/enrol/", {"otp": code(secret, clock)})
    assert done.status_code == 200 and len(done.context["codes"]) == 10
    assert client.get("/admin/").status_code == 200


def test_staff_with_two_factor_need_the_code_at_the_admin_login(clock):
    ops = UserFactory(username="ops", is_staff=True, is_superuser=True)
    secret = twofactor_on_at(ops, clock)
    clock.step()
    client = Client()
    refused = admin_post_login(client, "ops")
    assert refused.status_code == 200
    assert "two-factor code is required" in refused.content.decode()
    assert client.get("/admin/").status_code == 302
    assert admin_post_login(client, "ops", "000000").status_code == 200
    assert admin_post_login(client, "ops", code(secret, clock)).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_session_that_skipped_the_second_factor_opens_nothing(db):
    ops = UserFactory(is_staff=True, is_superuser=True)
    twofactor_on(ops)
    client = Client()
    client.force_login(ops)
    assert client.get("/admin/").status_code == 302
    assert admin_login(Client(), ops).get("/admin/").status_code == 200
