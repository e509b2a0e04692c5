"""Password reset and e-mail verification, by links sent by e-mail.

A reset link carries Django's password-reset token: it is bound to the password
hash and the last login, so it works once (the reset changes the hash), and it
expires after ``PASSWORD_RESET_TIMEOUT``. Links go only to verified addresses:
a typo at signup must not hand the account to whoever owns the mistyped
address. A reset request answers the same whatever the address, and the mail
is sent off the request thread, so neither the answer nor its timing says
whether an account exists.

A verification link is a signed, timestamped token naming the user and the
address; it stops working once the address changes or has been verified.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts import services
from accounts.mail import mail_send
from accounts.models import User
from accounts.securitylog import Kind, security_event_record
from accounts.throttling import attempt_throttle_check
from exchange import errors
from exchange.errors import ExchangeError

_VERIFY_SALT = "accounts.email-verification"


def invalid_link() -> ExchangeError:
    return ExchangeError(
        errors.INVALID_PARAMETER,
        "Data sent for parameter 'token' is not valid: the link is invalid, "
        "used or expired.",
    )


def password_reset_request(*, email: str, ip: str) -> None:
    """Send a reset link to each active account whose verified address is
    ``email``; nothing, silently, when there is none. Throttled per IP and per
    address."""
    attempt_throttle_check(scope="reset", key=f"ip:{ip}")
    attempt_throttle_check(scope="reset", key=f"email:{email.lower()}")
    users = User.objects.filter(
        email__iexact=email, is_active=True, email_verified_at__isnull=False
    )
    for user in users:
        if not user.has_usable_password():
            continue
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        minutes = settings.PASSWORD_RESET_TIMEOUT // 60
        mail_send(
            to=user.email,
            subject="Reset your Exchange password",
            body=(
                f"Someone asked to reset the password of {user.username}.\n\n"
                f"To choose a new one, open within {minutes} minutes:\n"
                f"{settings.PUBLIC_URL}/reset-password?uid={uid}&token={token}\n\n"
                f"(or POST uid={uid} and token={token} to "
                "/api/v1/auth/password-reset/confirm)\n\n"
                "If it was not you, ignore this message: nothing has changed."
            ),
        )


def password_reset_confirm(*, uid: str, token: str, password: str, ip: str) -> None:
    """Set a new password from a reset link: every refresh token and API key of
    the account ends, as with any password change. Two-factor stays on."""
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        raise invalid_link() from None
    with transaction.atomic():
        user = (
            User.objects.select_for_update().filter(id=user_id, is_active=True).first()
        )
        if user is None or not default_token_generator.check_token(user, token):
            raise invalid_link()
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ExchangeError(
                errors.INVALID_PARAMETER,
                "Data sent for parameter 'new_password' is not valid: "
                + " ".join(exc.messages),
            ) from None
        services.user_password_set(user=user, password=password, reset=True, ip=ip)


def email_verification_send(*, user: User) -> None:
    """Mail ``user`` a link that verifies their address (none without one)."""
    if not user.email or user.email_verified_at is not None:
        return
    token = signing.dumps({"u": user.pk, "e": user.email}, salt=_VERIFY_SALT)
    mail_send(
        to=user.email,
        subject="Confirm your e-mail address",
        body=(
            f"Welcome, {user.username}.\n\nConfirm this address by opening:\n"
            f"{settings.PUBLIC_URL}/verify-email?token={token}\n\n"
            "(or POST token to /api/v1/auth/verify-email)\n\n"
            "Password reset links are sent only to a confirmed address."
        ),
    )


def email_verify(*, token: str, ip: str | None = None) -> User:
    """Mark the address named by ``token`` verified; refused once used, after
    ``EMAIL_VERIFICATION_TIMEOUT`` or when the address has changed since."""
    try:
        claims = signing.loads(
            token, salt=_VERIFY_SALT, max_age=settings.EMAIL_VERIFICATION_TIMEOUT
        )
    except signing.BadSignature:
        raise invalid_link() from None
    if not isinstance(claims, dict):
        raise invalid_link()
    updated = User.objects.filter(
        id=claims.get("u"), email=claims.get("e"), email_verified_at=None
    ).update(email_verified_at=timezone.now())
    if not updated:
        raise invalid_link()
    user = User.objects.get(id=claims["u"])
    security_event_record(
        user_id=user.id, kind=Kind.EMAIL_VERIFIED, ip=ip, detail=user.email
    )
    return user
