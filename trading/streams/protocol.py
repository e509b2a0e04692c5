"""The market-stream control protocol (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS,
SET_PROPERTY, GET_PROPERTY): parsing a client frame into a request or Binance's
error. Pure: no I/O.

Errors are sent as ``{"error": {"code": c, "msg": m}, "id": id}``, the shape
Binance's servers send and ccxt's error handler reads; the codes and messages are
the ones Binance documents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from trading.streams.names import Stream, stream_parse

METHODS = (
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "LIST_SUBSCRIPTIONS",
    "SET_PROPERTY",
    "GET_PROPERTY",
)
MAX_ID_STRING = 36
MAX_INT64 = (1 << 63) - 1


@dataclass(slots=True)
class Control:
    method: str
    id: object
    streams: list[Stream] = field(default_factory=list)
    property: str = ""
    value: object = None


class ProtocolError(Exception):
    def __init__(self, code: int, msg: str, request_id: object = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.id = request_id

    def as_reply(self) -> dict:
        return {"error": {"code": self.code, "msg": self.msg}, "id": self.id}


def _json_error(exc: json.JSONDecodeError) -> ProtocolError:
    return ProtocolError(
        3, f"Invalid JSON: {exc.msg.lower()} at line {exc.lineno} column {exc.colno}"
    )


def _id_valid(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -MAX_INT64 - 1 <= value <= MAX_INT64
    if isinstance(value, str):
        return len(value) <= MAX_ID_STRING and all(
            c.isascii() and (c.isalnum() or c in "-_") for c in value
        )
    return False


def control_parse(text: str) -> Control:
    """The request in ``text``, or :class:`ProtocolError` with Binance's reply."""
    try:
        message = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_error(exc) from None
    except RecursionError:
        raise ProtocolError(3, "Invalid JSON: recursion limit exceeded") from None
    if not isinstance(message, dict):
        raise ProtocolError(2, "Invalid request: expected an object")
    request_id = message.get("id")
    if not _id_valid(request_id):
        raise ProtocolError(
            2, "Invalid request: request ID must be an unsigned integer", None
        )
    method = message.get("method")
    if method is None:
        raise ProtocolError(2, "Invalid request: missing field `method`", request_id)
    if method not in METHODS:
        raise ProtocolError(
            2,
            f"Invalid request: unknown variant `{method}`, expected one of "
            + ", ".join(f"`{m}`" for m in METHODS),
            request_id,
        )
    params = message.get("params")
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        if not isinstance(params, list):
            raise ProtocolError(
                2, "Invalid request: missing field `params`", request_id
            )
        streams = []
        for name in params:
            stream = stream_parse(name)
            if stream is None:
                raise ProtocolError(2, "Invalid request: invalid stream", request_id)
            if stream not in streams:
                streams.append(stream)
        return Control(method, request_id, streams=streams)
    if method == "LIST_SUBSCRIPTIONS":
        if params not in (None, []):
            raise ProtocolError(2, "Invalid request: too many parameters", request_id)
        return Control(method, request_id)
    if not isinstance(params, list) or not params:
        raise ProtocolError(2, "Invalid request: missing field `params`", request_id)
    name = params[0]
    if not isinstance(name, str):
        raise ProtocolError(
            2, "Invalid request: property name must be a string", request_id
        )
    if name != "combined":
        raise ProtocolError(0, "Unknown property", request_id)
    if method == "GET_PROPERTY":
        if len(params) > 1:
            raise ProtocolError(2, "Invalid request: too many parameters", request_id)
        return Control(method, request_id, property=name)
    if len(params) != 2:
        raise ProtocolError(
            2,
            "Invalid request: too many parameters"
            if len(params) > 2
            else "Invalid request: missing field `params`",
            request_id,
        )
    if not isinstance(params[1], bool):
        raise ProtocolError(1, "Invalid value type: expected Boolean", request_id)
    return Control(method, request_id, property=name, value=params[1])
