"""Binance-style request signing: HMAC-SHA256 over the query string and the body."""

import hashlib
import hmac
import re

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def split_signature(query: str, body: str) -> tuple[str, str, list[str]]:
    """The query string and the body with ``signature`` removed, and the signature
    values found.

    Binance signs ``totalParams``: the query string concatenated with the request
    body, with nothing between them (``query + body``); parameters are read from
    the two parts separately.
    """
    found: list[str] = []

    def strip(part: str) -> str:
        if "signature=" not in part:
            return part
        kept = []
        for pair in part.split("&"):
            if pair.startswith("signature="):
                found.append(pair[len("signature=") :])
            else:
                kept.append(pair)
        return "&".join(kept)

    return strip(query), strip(body), found


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signature_valid(secret: str, payload: str, signature: str) -> bool:
    if not _HEX64.match(signature):
        return False
    return hmac.compare_digest(sign(secret, payload), signature.lower())
