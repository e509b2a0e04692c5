"""The client side of Binance's request signing, and a small HTTP client over it.

Every tool and test that talks to ``/api/v3`` as a Binance client signs here: the
load test, the chaos load, the smoke driver, ``request_profile`` and the tests'
request helpers. It is written from Binance's documentation, not from the server's
``accounts.signing``, so the tests check one implementation against the other.

Binance signs ``totalParams``, the query string followed by the request body with
nothing between them: ``signature`` is the hex HMAC-SHA256 of that under the API
key's secret, sent last, with the key in the ``X-MBX-APIKEY`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

API_KEY_HEADER = "X-MBX-APIKEY"

Params = Mapping[str, object] | Sequence[tuple[str, object]]


def sign(secret: str, payload: str) -> str:
    """The hex HMAC-SHA256 of ``payload`` (query string, then body) under
    ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _pairs(params: Params | None) -> list[tuple[str, object]]:
    if isinstance(params, Mapping):
        return list(params.items())
    return list(params or [])


def now_ms() -> int:
    return int(time.time() * 1000)


def signed_query(
    secret: str,
    params: Params | None = None,
    *,
    recv_window: int | None = None,
    timestamp: int | None = None,
) -> str:
    """``params`` url-encoded, then ``timestamp`` (now unless given) and
    ``recvWindow`` (when given), then ``signature`` over all of it: the query of a
    signed request that has no body."""
    pairs = _pairs(params)
    pairs.append(("timestamp", now_ms() if timestamp is None else timestamp))
    if recv_window is not None:
        pairs.append(("recvWindow", recv_window))
    query = urlencode(pairs)
    return f"{query}&signature={sign(secret, query)}"


class BinanceClient:
    """Blocking requests to a served exchange over ``urllib``: public ones as they
    are, signed ones with the key header and :func:`signed_query`. Each answer is
    ``(HTTP status, parsed JSON body)``; a 4xx or 5xx is an answer, not an
    exception."""

    def __init__(
        self,
        base_url: str,
        key: str | None = None,
        secret: str | None = None,
        *,
        recv_window: int | None = None,
        timeout: float = 10,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.secret = secret
        self.recv_window = recv_window
        self.timeout = timeout

    def request(
        self, method: str, path: str, params: Params | None = None, *, signed: bool
    ) -> tuple[int, object]:
        headers = {}
        if signed:
            if self.key is None or self.secret is None:
                raise ValueError("a signed request needs an API key and its secret")
            query = signed_query(self.secret, params, recv_window=self.recv_window)
            headers[API_KEY_HEADER] = self.key
        else:
            query = urlencode(_pairs(params))
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        # The scheme was checked in __init__: only http(s) URLs are opened.
        request = urllib.request.Request(url, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def get(self, path: str, params: Params | None = None) -> tuple[int, object]:
        return self.request("GET", path, params, signed=False)

    def signed_get(self, path: str, params: Params | None = None) -> tuple[int, object]:
        return self.request("GET", path, params, signed=True)

    def signed_post(
        self, path: str, params: Params | None = None
    ) -> tuple[int, object]:
        return self.request("POST", path, params, signed=True)

    def signed_delete(
        self, path: str, params: Params | None = None
    ) -> tuple[int, object]:
        return self.request("DELETE", path, params, signed=True)
