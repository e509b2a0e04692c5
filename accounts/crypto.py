"""Encryption of API-key secrets at rest, and IP allow-list parsing."""

import ipaddress
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from exchange import errors
from exchange.errors import ExchangeError


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    return Fernet(settings.API_KEY_ENCRYPTION_KEY.encode())


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str | None:
    """The secret, or None if it was encrypted with another key."""
    return _decrypt(settings.API_KEY_ENCRYPTION_KEY, token)


@lru_cache(maxsize=4096)
def _decrypt(encryption_key: str, token: str) -> str | None:
    """Every signed request needs its key's secret, and a token always decrypts to
    the same secret under the same encryption key: each process decrypts a key
    once."""
    try:
        return Fernet(encryption_key.encode()).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def ip_network_check(value: str) -> str:
    """Normalise an address or CIDR block for an allow-list; refuse anything else."""
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=False))
    except ValueError:
        raise ExchangeError(
            errors.INVALID_PARAMETER,
            "Data sent for parameter 'ipAllowlist' is not valid: "
            "not an IP address or network.",
        ) from None


def ip_allowed(address: str, allowlist: list[str]) -> bool:
    """True if the list is empty or ``address`` falls in one of its blocks."""
    if not allowlist:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(block) for block in allowlist)
