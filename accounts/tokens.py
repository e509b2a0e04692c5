"""Refresh tokens: issue, rotate, revoke.

Each login starts a family (a ``fam`` claim carried by every token rotated from
it). A refresh token is good once: rotating it blacklists it under a row lock on
its outstanding-token row, so concurrent refreshes of one token succeed once.
A token presented again after its rotation is a sign it was stolen: the whole
family is revoked, the rotated-to token included. A reuse within
``ROTATION_GRACE_SECONDS`` of the rotation (a client racing itself) is refused
without that. A refresh token also dies with a password change: it carries a
digest of the password hash it was issued under.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import RevokedTokenFamily, User
from accounts.securitylog import Kind, security_event_record
from exchange import errors
from exchange.errors import ExchangeError

FAMILY_CLAIM = "fam"
ROTATION_GRACE_SECONDS = 2


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: str
    refresh: str


def invalid_token() -> ExchangeError:
    return ExchangeError(
        errors.UNAUTHORIZED, "Invalid or expired token.", 401, reason="token_invalid"
    )


def token_pair_issue(*, user: User, family: str | None = None) -> TokenPair:
    """A new access and refresh token for ``user``, in ``family`` or a new one."""
    refresh = RefreshToken.for_user(user)
    refresh[FAMILY_CLAIM] = family or uuid.uuid4().hex
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _payload(token: str) -> dict:
    try:
        payload = token_backend.decode(token, verify=True)
    except TokenBackendError:
        raise invalid_token() from None
    if payload.get("token_type") != "refresh" or "jti" not in payload:
        raise invalid_token()
    return payload


def refresh_rotate(*, token: str) -> TokenPair:
    """Exchange a refresh token for a new pair in its family; the old one is
    blacklisted. See the module docstring for reuse."""
    payload = _payload(token)
    family = payload.get(FAMILY_CLAIM) or payload["jti"]
    revoke_family = False
    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update()
            .filter(jti=payload["jti"])
            .first()
        )
        if outstanding is None or outstanding.user_id is None:
            raise invalid_token()
        user = User.objects.filter(id=outstanding.user_id, is_active=True).first()
        if (
            user is None
            or RevokedTokenFamily.objects.filter(family=family).exists()
            or payload.get(api_settings.REVOKE_TOKEN_CLAIM)
            != get_md5_hash_password(user.password)
        ):
            raise invalid_token()
        blacklisted = BlacklistedToken.objects.filter(token=outstanding).first()
        if blacklisted is None:
            BlacklistedToken.objects.create(token=outstanding)
            return token_pair_issue(user=user, family=family)
        grace = timedelta(seconds=ROTATION_GRACE_SECONDS)
        revoke_family = timezone.now() - blacklisted.blacklisted_at > grace
    if revoke_family:
        token_family_revoke(user_id=user.id, family=family)
    raise invalid_token()


def token_family_revoke(*, user_id: int, family: str) -> None:
    _, created = RevokedTokenFamily.objects.get_or_create(
        family=family, defaults={"user_id": user_id}
    )
    if created:
        security_event_record(
            user_id=user_id,
            kind=Kind.TOKEN_REUSED,
            detail="a spent refresh token came back: its login was ended",
        )


def refresh_revoke(*, token: str) -> None:
    """Log out: blacklist one refresh token."""
    payload = _payload(token)
    outstanding = OutstandingToken.objects.filter(jti=payload["jti"]).first()
    if outstanding is None:
        raise invalid_token()
    BlacklistedToken.objects.get_or_create(token=outstanding)


def refresh_tokens_revoke_all(*, user_id: int) -> int:
    """Blacklist every refresh token the user holds; returns how many were live."""
    live = list(
        OutstandingToken.objects.filter(
            user_id=user_id,
            blacklistedtoken__isnull=True,
            expires_at__gt=timezone.now(),
        ).values_list("id", flat=True)
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=token_id) for token_id in live],
        ignore_conflicts=True,
    )
    return len(live)
