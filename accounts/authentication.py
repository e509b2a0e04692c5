"""Authentication for the API: Binance-style signed requests and JWT bearer tokens."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError

from accounts import crypto
from accounts.models import User
from accounts.selectors import ApiKeyRecord, apikey_lookup
from accounts.signing import signature_valid, split_signature
from exchange import errors
from exchange.errors import ExchangeError

# Checked with fullmatch: "$" alone also matches before a final newline.
_KEY_FORMAT = re.compile(r"^[A-Za-z0-9]{1,128}$")
_INT = re.compile(r"^[0-9]{1,19}$")


@dataclass(frozen=True, slots=True)
class ApiKeyAuth:
    """``request.auth`` for a request signed with an API key."""

    key_id: int
    can_read: bool
    can_trade: bool


def rejected_key() -> ExchangeError:
    return ExchangeError(
        errors.REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action.", 401
    )


def client_ip(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or the address the trusted proxies in
    front of us (``NUM_PROXIES``) saw in ``X-Forwarded-For``."""
    proxies = getattr(settings, "NUM_PROXIES", 0)
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _param(query: str, body: str, name: str) -> list[str]:
    """The values of ``name``: from the query string if it is there (as with every
    parameter, the query's value wins), else from the body."""
    return _values(query, name) or _values(body, name)


def _values(payload: str, name: str) -> list[str]:
    prefix = name + "="
    return [
        pair[len(prefix) :] for pair in payload.split("&") if pair.startswith(prefix)
    ]


class SignedRequestAuthentication(BaseAuthentication):
    """``X-MBX-APIKEY`` plus ``signature`` = hex HMAC-SHA256(secret, totalParams), with
    ``timestamp`` (ms) and ``recvWindow`` (default 5000, at most 60000).

    Does nothing when the header is absent, so that a JWT may be used instead.
    """

    def authenticate(self, request):
        key = request.META.get("HTTP_X_MBX_APIKEY")
        if key is None:
            return None
        record = apikey_record_check(key=key, ip=client_ip(request))

        django_request = request._request
        body = ""
        content_type = django_request.META.get("CONTENT_TYPE", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            body = django_request.body.decode("utf-8", "replace")
        query, body, signatures = split_signature(
            django_request.META.get("QUERY_STRING", ""), body
        )
        pairs_check(query, body)
        timestamp_check(query, body)
        if not signatures:
            raise errors.mandatory_missing("signature")
        if len(signatures) > 1:
            raise ExchangeError(
                errors.TOO_MANY_PARAMETERS, "Duplicate values for a parameter detected."
            )
        signature_check(record, [query + body], signatures[0])
        return signed_identity(record)

    def authenticate_header(self, request):
        return "X-MBX-APIKEY"


def apikey_record_check(*, key: str, ip: str) -> ApiKeyRecord:
    """The active key ``key`` used from ``ip``, or Binance's refusal."""
    if not _KEY_FORMAT.fullmatch(key):
        raise ExchangeError(errors.BAD_API_KEY_FMT, "API-key format invalid.", 401)
    record = apikey_lookup(key=key)
    if record is None or not record.active:
        raise rejected_key()
    if not crypto.ip_allowed(ip, record.ip_allowlist):
        raise rejected_key()
    return record


def signature_check(record: ApiKeyRecord, payloads: list[str], signature: str) -> None:
    """Refuse unless ``signature`` is the key's HMAC of one of ``payloads`` (the
    forms a client may have signed: the REST request has one, the WebSocket API
    raw and percent-encoded)."""
    secret = crypto.decrypt(record.secret_encrypted)
    if secret is None or not any(
        signature_valid(secret, payload, signature) for payload in payloads
    ):
        raise ExchangeError(
            errors.INVALID_SIGNATURE, "Signature for this request is not valid."
        )


def signed_identity(record: ApiKeyRecord) -> tuple[User, ApiKeyAuth]:
    """(user, auth) of a request signed with the key: the user without a query."""
    # The fields not given are loaded if something reads them; built this way,
    # the user costs a quarter of User(...) with keywords, which evaluates every
    # other field's default.
    user = User.from_db(
        "default",
        ("id", "username", "is_active"),
        (record.user_id, record.username, True),
    )
    return user, ApiKeyAuth(record.id, record.can_read, record.can_trade)


def pairs_check(query: str, body: str) -> None:
    """Refuse a signed request with a parameter that is not ``name=value``.

    The signature covers the query string and the body joined with nothing
    between them, so the same bytes cut at another place carry the same
    signature: ``quantity=0.15`` signed in the body arrives as a query ending in
    ``quantity=0.1`` and a body starting with ``5&``. Every such cut leaves a
    fragment without a name or an ``=``; whole parameters moved from one part to
    the other keep their meaning."""
    for part in (query, body):
        for pair in part.split("&"):
            if pair and (pair.startswith("=") or "=" not in pair):
                raise ExchangeError(
                    errors.ILLEGAL_CHARS,
                    "Illegal characters found in a parameter: every parameter of "
                    "a signed request must be name=value.",
                )


def timestamp_check(query: str, body: str = "") -> None:
    """Refuse a request whose ``timestamp`` is outside its ``recvWindow``."""
    config = settings.SIGNED_REQUEST
    stamps = _param(query, body, "timestamp")
    if not stamps or not stamps[0]:
        raise errors.mandatory_missing("timestamp")
    if len(stamps) > 1:
        raise ExchangeError(
            errors.TOO_MANY_PARAMETERS, "Duplicate values for a parameter detected."
        )
    if not _INT.fullmatch(stamps[0]):
        raise ExchangeError(
            errors.ILLEGAL_CHARS,
            "Illegal characters found in parameter 'timestamp'; legal range is "
            "'^[0-9]{1,20}$'.",
        )
    timestamp = int(stamps[0])
    window = config["default_recv_window"]
    windows = _param(query, body, "recvWindow")
    if windows:
        if len(windows) > 1 or not _INT.fullmatch(windows[0]):
            raise errors.invalid_parameter("recvWindow")
        window = int(windows[0])
        if window > config["max_recv_window"] or window <= 0:
            raise ExchangeError(
                errors.BAD_RECV_WINDOW, "recvWindow must be less than 60000"
            )
    now = int(time.time() * 1000)
    if timestamp > now + config["max_clock_ahead_ms"]:
        raise ExchangeError(
            errors.INVALID_TIMESTAMP,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        )
    if now - timestamp > window:
        raise ExchangeError(
            errors.INVALID_TIMESTAMP,
            "Timestamp for this request is outside of the recvWindow.",
        )


class BearerJWTAuthentication(JWTAuthentication):
    """JWT access tokens (``Authorization: Bearer ...``), refused in Binance's shape."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except (AuthenticationFailed, TokenError):
            # RFC 6750's challenge tells a client that the token, not something
            # else in the request (a two-factor code), was refused: refresh it.
            raise ExchangeError(
                errors.UNAUTHORIZED,
                "Invalid or expired token.",
                401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None


class _KeyPermission(BasePermission):
    """An authenticated user; a signed request needs a key with ``needed``."""

    needed = ""

    def has_permission(self, request, view) -> bool:
        if request.user is None or not request.user.is_authenticated:
            raise ExchangeError(
                errors.UNAUTHORIZED,
                "You are not authorized to execute this request.",
                401,
            )
        if isinstance(request.auth, ApiKeyAuth) and not getattr(
            request.auth, f"can_{self.needed}"
        ):
            raise rejected_key()
        return True


class CanRead(_KeyPermission):
    needed = "read"


class CanTrade(_KeyPermission):
    needed = "trade"


SIGNED_AUTHENTICATION = [SignedRequestAuthentication, BearerJWTAuthentication]
