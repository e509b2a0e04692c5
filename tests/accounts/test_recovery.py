"""Password reset by e-mail, e-mail verification at signup, and no account
enumeration through register, login or reset."""

import re

import pytest
from django.core import mail
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import recovery, tokens
from accounts.models import SecurityEvent, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-pass-73"


def verified(**kwargs) -> User:
    user = UserFactory(**kwargs)
    User.objects.filter(id=user.id).update(email_verified_at="2026-01-01T00:00Z")
    user.refresh_from_db()
    return user


def ask_reset(api, email, ip="10.6.0.1"):
    return api.post(
        "/api/v1/auth/password-reset", {"email": email}, format="json", REMOTE_ADDR=ip
    )


def link_params(message) -> dict:
    return dict(re.findall(r"(uid|token)=([\w:-]+)", message.body))


def confirm(api, params, password=NEW_PASSWORD):
    return api.post(
        "/api/v1/auth/password-reset/confirm",
        {**params, "new_password": password},
        format="json",
    )


def test_a_reset_link_sets_the_password_once_and_ends_sessions(api):
    user = verified(email="ann@example.com")
    live = tokens.token_pair_issue(user=user).refresh
    answer = ask_reset(api, "ANN@example.com")
    assert answer.status_code == 202
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ann@example.com"]
    params = link_params(mail.outbox[0])
    assert confirm(api, params).status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    again = confirm(api, params, "yet-another-pass-99")
    assert again.status_code == 400 and again.json()["code"] == -1130
    assert (
        api.post("/api/v1/auth/refresh", {"refresh": live}, format="json").status_code
        == 401
    )
    assert SecurityEvent.objects.filter(user=user, kind="PASSWORD_RESET").exists()
    assert OutstandingToken.objects.filter(user=user).count() == 1


def test_a_reset_link_expires(api, settings):
    user = verified(email="bo@example.com")
    ask_reset(api, user.email)
    params = link_params(mail.outbox[0])
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert confirm(api, params).status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_reset_answers_the_same_for_every_address_and_mails_only_verified_ones(api):
    verified(email="known@example.com")
    UserFactory(email="unverified@example.com")
    answers = [
        ask_reset(api, email, ip=f"10.6.1.{n}")
        for n, email in enumerate(
            ["known@example.com", "unverified@example.com", "nobody@example.com"]
        )
    ]
    assert {(a.status_code, a.content) for a in answers} == {(202, answers[0].content)}
    assert [m.to for m in mail.outbox] == [["known@example.com"]]


def test_reset_requests_are_throttled(api, settings):
    settings.ATTEMPT_THROTTLES = {**settings.ATTEMPT_THROTTLES, "reset": (2, 3600)}
    for _ in range(2):
        assert ask_reset(api, "x@example.com").status_code == 202
    refused = ask_reset(api, "x@example.com")
    assert refused.status_code == 429 and refused.json()["code"] == -1003


@pytest.mark.parametrize(
    "params",
    [
        {"uid": "!!", "token": "x"},
        {"uid": "MQ", "token": "nope"},
        {"uid": "", "token": ""},
    ],
)
def test_a_bad_link_is_a_4xx(api, params):
    response = confirm(api, params)
    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"code", "msg"}


def test_signup_mails_a_verification_link_that_works_once(api):
    created = api.post(
        "/api/v1/auth/register",
        {
            "username": "vera",
            "password": "a-long-enough-pass-77",
            "email": "vera@example.com",
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()["emailVerified"] is False
    token = re.search(r"token=(\S+)", mail.outbox[0].body).group(1)
    verify = api.post("/api/v1/auth/verify-email", {"token": token}, format="json")
    assert verify.status_code == 204
    user = User.objects.get(username="vera")
    assert user.email_verified_at is not None
    assert (
        api.post(
            "/api/v1/auth/verify-email", {"token": token}, format="json"
        ).status_code
        == 400
    )
    # A reset now reaches the verified address.
    ask_reset(api, "vera@example.com")
    assert mail.outbox[-1].subject == "Reset your Exchange password"


def test_a_verification_link_dies_when_the_address_changes(api):
    user = UserFactory(email="old@example.com")
    recovery.email_verification_send(user=user)
    token = re.search(r"token=(\S+)", mail.outbox[0].body).group(1)
    User.objects.filter(id=user.id).update(email="new@example.com")
    response = api.post("/api/v1/auth/verify-email", {"token": token}, format="json")
    assert response.status_code == 400


def test_login_refusals_read_the_same_for_unknown_and_known_names(api):
    user = UserFactory()
    inactive = UserFactory(is_active=False)
    bodies = {
        api.post(
            "/api/v1/auth/login",
            {"username": name, "password": password},
            format="json",
            REMOTE_ADDR=f"10.6.2.{n}",
        ).content
        for n, (name, password) in enumerate(
            [
                (user.username, "wrong-pass"),
                ("no-such-user", "wrong-pass"),
                (inactive.username, PASSWORD),
            ]
        )
    }
    assert len(bodies) == 1
