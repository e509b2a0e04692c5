"""Two-factor authentication: TOTP (RFC 6238) enrolment, verification and
single-use recovery codes.

A user enrols (a secret, its ``otpauth://`` URI and a QR code), confirms with one
correct code, and from then on a code is asked at login, to create an API key, to
change the password and to disable two-factor. A code is accepted once: the time
step of the last accepted code is kept, and a code from that step or an earlier
one is refused. Recovery codes are random, shown once, stored as SHA-256 digests
(they carry 50 bits of randomness, so a slow hash adds nothing), and each works
once.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass

import pyotp
import qrcode
import qrcode.image.svg
from django.db import transaction
from django.utils import timezone

from accounts import crypto
from accounts.models import RecoveryCode, TwoFactor, User
from accounts.securitylog import Kind, security_event_record
from accounts.throttling import attempt_throttle_check
from exchange import errors
from exchange.errors import ExchangeError

ISSUER = "Exchange"
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# Codes from the step before and after the current one are accepted (clock skew).
VALID_WINDOW = 1
OTP_PARAM = "otp"
# What "now" is for TOTP codes (tests move it).
clock = timezone.now


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the user needs to add the account to an authenticator app."""

    secret: str
    uri: str
    qr_svg: str


def twofactor_enabled(*, user_id: int) -> bool:
    return TwoFactor.objects.filter(
        user_id=user_id, confirmed_at__isnull=False
    ).exists()


def twofactor_enrol_start(*, user: User) -> Enrolment:
    """Start (or restart) enrolment with a new secret. Refused when two-factor is
    already enabled: disable it first, with a code."""
    with transaction.atomic():
        existing = TwoFactor.objects.select_for_update().filter(user=user).first()
        if existing is not None and existing.confirmed_at is not None:
            raise ExchangeError(
                errors.INVALID_PARAMETER, "Two-factor authentication is already on."
            )
        secret = pyotp.random_base32()
        TwoFactor.objects.update_or_create(
            user=user,
            defaults={
                "secret_encrypted": crypto.encrypt(secret),
                "confirmed_at": None,
                "last_counter": 0,
            },
        )
    return enrolment_of(user=user, secret=secret)


def twofactor_enrolment_pending(*, user: User) -> Enrolment | None:
    """The pending enrolment's details again (a page reload), or None."""
    pending = TwoFactor.objects.filter(user=user, confirmed_at=None).first()
    if pending is None:
        return None
    secret = crypto.decrypt(pending.secret_encrypted)
    return enrolment_of(user=user, secret=secret) if secret else None


def enrolment_of(*, user: User, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return Enrolment(secret=secret, uri=uri, qr_svg=qr_svg(uri))


def qr_svg(data: str) -> str:
    """``data`` as a QR code in SVG (vector paths: no image library needed)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    text = buffer.getvalue().decode()
    # The XML declaration is not allowed inside an HTML page.
    return text[text.index("<svg") :]


def twofactor_enrol_confirm(
    *, user: User, otp: str, ip: str | None = None
) -> list[str]:
    """Turn two-factor on with a correct code from the pending secret; returns the
    recovery codes, which are never shown again."""
    attempt_throttle_check(scope="otp", key=str(user.id))
    with transaction.atomic():
        pending = (
            TwoFactor.objects.select_for_update()
            .filter(user=user, confirmed_at=None)
            .first()
        )
        if pending is None:
            raise ExchangeError(
                errors.INVALID_PARAMETER,
                "No two-factor enrolment is pending: start one first.",
            )
        if not _totp_accept(pending, otp):
            raise invalid_code()
        pending.confirmed_at = timezone.now()
        pending.save(update_fields=["confirmed_at", "last_counter"])
        security_event_record(user_id=user.id, kind=Kind.TWO_FACTOR_ENABLED, ip=ip)
        return _recovery_codes_replace(user)


def twofactor_recovery_codes_regenerate(
    *, user: User, otp: str, ip: str | None = None
) -> list[str]:
    """New recovery codes (the old ones stop working), behind a code."""
    with transaction.atomic():
        twofactor_check(user=user, otp=otp)
        security_event_record(user_id=user.id, kind=Kind.RECOVERY_CODES_RENEWED, ip=ip)
        return _recovery_codes_replace(user)


def twofactor_disable(*, user: User, otp: str, ip: str | None = None) -> None:
    """Turn two-factor off, behind a code; recovery codes go with it."""
    with transaction.atomic():
        if not twofactor_enabled(user_id=user.id):
            raise ExchangeError(
                errors.INVALID_PARAMETER, "Two-factor authentication is not on."
            )
        twofactor_check(user=user, otp=otp)
        TwoFactor.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        security_event_record(user_id=user.id, kind=Kind.TWO_FACTOR_DISABLED, ip=ip)


def twofactor_check(*, user: User, otp: str | None) -> bool:
    """Refuse unless ``otp`` is a fresh TOTP code or an unused recovery code of
    the user's, when the user has two-factor on. Returns True if a code was
    checked (False: two-factor is off, nothing asked).

    Raises :func:`code_required` when no code was sent and :func:`invalid_code`
    when it is wrong; wrong codes are throttled per user.
    """
    with transaction.atomic():
        device = (
            TwoFactor.objects.select_for_update()
            .filter(user_id=user.id, confirmed_at__isnull=False)
            .first()
        )
        if device is None:
            return False
        if not otp:
            raise code_required()
        attempt_throttle_check(scope="otp", key=str(user.id))
        if _totp_accept(device, otp):
            device.save(update_fields=["last_counter"])
            return True
        if _recovery_code_use(user, otp):
            return True
    raise invalid_code()


def code_required() -> ExchangeError:
    """The refusal that tells a client to ask its user for a code (docs/api.md)."""
    return ExchangeError(
        errors.MANDATORY_PARAM,
        f"Mandatory parameter '{OTP_PARAM}' was not sent, was empty/null, or "
        "malformed: a two-factor code is required.",
        401,
        reason="otp_required",
    )


def invalid_code() -> ExchangeError:
    return ExchangeError(
        errors.UNAUTHORIZED, "Invalid two-factor code.", 401, reason="otp_invalid"
    )


def _totp_accept(device: TwoFactor, otp: str) -> bool:
    """True (and ``device.last_counter`` advanced, unsaved) if ``otp`` is the code
    of a time step within the window, later than the last one accepted."""
    code = "".join(otp.split())
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return False
    secret = crypto.decrypt(device.secret_encrypted)
    if secret is None:
        return False
    totp = pyotp.TOTP(secret)
    current = totp.timecode(clock())
    for counter in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if counter <= device.last_counter:
            continue
        if hmac.compare_digest(totp.generate_otp(counter), code):
            device.last_counter = counter
            return True
    return False


def _digest(code: str) -> str:
    normal = "".join(code.lower().split()).replace("-", "")
    return hashlib.sha256(normal.encode("utf-8", "replace")).hexdigest()


def _recovery_code_use(user: User, otp: str) -> bool:
    return bool(
        RecoveryCode.objects.filter(
            user=user, code_digest=_digest(otp), used_at=None
        ).update(used_at=timezone.now())
    )


def _recovery_codes_replace(user: User) -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_digest=_digest(code)) for code in codes]
    )
    return codes
