"""One error type for the whole exchange, and Binance's error codes.

Services raise :class:`ExchangeError` with a Binance error code;
``exchange.exception_handler`` (and the middleware for non-DRF paths) renders it as
``{"code": ..., "msg": ...}``.
"""

from __future__ import annotations


class ExchangeError(Exception):
    """A refusal with a Binance error code, a message and an HTTP status."""

    def __init__(
        self,
        code: int,
        msg: str,
        http_status: int = 400,
        *,
        headers: dict[str, str] | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.headers = headers or {}
        # A short machine-readable reason, for metrics (e.g. "insufficient_balance").
        self.reason = reason

    def as_dict(self) -> dict:
        return {"code": self.code, "msg": self.msg}

    def __repr__(self) -> str:
        return f"ExchangeError({self.code}, {self.msg!r}, {self.http_status})"


# The catalogue: every Binance code the exchange returns, named once. A code's
# usual HTTP status is 400 unless the constructor below says otherwise; messages
# that never vary live in the constructors, so each refusal is written once.
UNKNOWN = -1000
DISCONNECTED = -1001
UNAUTHORIZED = -1002
TOO_MANY_REQUESTS = -1003
SERVER_BUSY = -1008
INVALID_MESSAGE = -1013
TOO_MANY_ORDERS = -1015
UNSUPPORTED_OPERATION = -1020
INVALID_TIMESTAMP = -1021
INVALID_SIGNATURE = -1022
ILLEGAL_CHARS = -1100
TOO_MANY_PARAMETERS = -1101
MANDATORY_PARAM = -1102
UNKNOWN_PARAM = -1103
PARAM_EMPTY = -1105
PARAM_NOT_REQUIRED = -1106
PARAM_OVERFLOW = -1108
BAD_PRECISION = -1111
TIF_NOT_REQUIRED = -1114
INVALID_TIF = -1115
INVALID_ORDER_TYPE = -1116
INVALID_SIDE = -1117
EMPTY_NEW_CL_ORD_ID = -1118
EMPTY_ORG_CL_ORD_ID = -1119
BAD_INTERVAL = -1120
BAD_SYMBOL = -1121
INVALID_TIME_RANGE = -1127
OPTIONAL_PARAMS_BAD_COMBO = -1128
INVALID_PARAMETER = -1130
BAD_RECV_WINDOW = -1131
INVALID_JSON = -1135
INVALID_CANCEL_RESTRICTIONS = -1145
DUPLICATE_SYMBOLS = -1151
OCO_ORDER_TYPE_REJECTED = -1158
OCO_ICEBERGQTY_TIMEINFORCE = -1160
BUY_OCO_LIMIT_MUST_BE_BELOW = -1165
SELL_OCO_LIMIT_MUST_BE_ABOVE = -1166
BOTH_OCO_ORDERS_CANNOT_BE_LIMIT = -1168
BUY_OCO_STOP_LOSS_MUST_BE_ABOVE = -1196
SELL_OCO_STOP_LOSS_MUST_BE_BELOW = -1197
BUY_OCO_TAKE_PROFIT_MUST_BE_BELOW = -1198
SELL_OCO_TAKE_PROFIT_MUST_BE_ABOVE = -1199
NEW_ORDER_REJECTED = -2010
CANCEL_REJECTED = -2011
NO_SUCH_ORDER = -2013
BAD_API_KEY_FMT = -2014
REJECTED_MBX_KEY = -2015
CANCEL_REPLACE_PARTIAL = -2021
CANCEL_REPLACE_FAILED = -2022
ORDER_AMEND_REJECTED = -2038
CLIENT_ORDER_ID_INVALID = -2039
SUBSCRIPTION_ACTIVE = -2035


def mandatory_missing(name: str) -> ExchangeError:
    return ExchangeError(
        MANDATORY_PARAM,
        f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
    )


def invalid_parameter(name: str) -> ExchangeError:
    return ExchangeError(
        INVALID_PARAMETER, f"Data sent for parameter '{name}' is not valid."
    )


def service_unavailable() -> ExchangeError:
    return ExchangeError(
        DISCONNECTED,
        "Internal error; unable to process your request. Please try again.",
        503,
        reason="database_unavailable",
    )


def param_overflow(name: str) -> ExchangeError:
    return ExchangeError(PARAM_OVERFLOW, f"Parameter '{name}' overflowed.")


def bad_symbol() -> ExchangeError:
    return ExchangeError(BAD_SYMBOL, "Invalid symbol.", reason="bad_symbol")


def market_closed() -> ExchangeError:
    return ExchangeError(
        NEW_ORDER_REJECTED, "Market is closed.", reason="market_closed"
    )


def duplicate_order() -> ExchangeError:
    return ExchangeError(
        NEW_ORDER_REJECTED, "Duplicate order sent.", reason="duplicate"
    )


def would_take() -> ExchangeError:
    return ExchangeError(
        NEW_ORDER_REJECTED,
        "Order would immediately match and take.",
        reason="would_take",
    )


def unknown_order() -> ExchangeError:
    return ExchangeError(CANCEL_REJECTED, "Unknown order sent.", reason="unknown")


def time_range_too_long(hours: int) -> ExchangeError:
    return ExchangeError(
        INVALID_TIME_RANGE, f"More than {hours} hours between startTime and endTime."
    )


def would_trigger() -> ExchangeError:
    return ExchangeError(
        NEW_ORDER_REJECTED, "Order would trigger immediately.", reason="would_trigger"
    )


def price_relationship() -> ExchangeError:
    return ExchangeError(
        NEW_ORDER_REJECTED,
        "The relationship of the prices for the orders is not correct.",
        reason="price_relationship",
    )


def unsupported_order(order_type: str) -> ExchangeError:
    """An order this exchange does not take, in Binance's words for its type."""
    words = {
        "STOP_LOSS": "Stop loss",
        "STOP_LOSS_LIMIT": "Stop loss limit",
        "TAKE_PROFIT": "Take profit",
        "TAKE_PROFIT_LIMIT": "Take profit limit",
    }.get(order_type, "These")
    return ExchangeError(
        NEW_ORDER_REJECTED,
        f"{words} orders are not supported for this symbol.",
        reason="unsupported_type",
    )


def unsupported_combination() -> ExchangeError:
    return ExchangeError(
        NEW_ORDER_REJECTED, "Unsupported order combination", reason="combination"
    )


def amend_rejected(message: str, reason: str) -> ExchangeError:
    return ExchangeError(ORDER_AMEND_REJECTED, message, reason=reason)


def order_list_unknown() -> ExchangeError:
    return ExchangeError(
        NO_SUCH_ORDER, "Order list does not exist.", reason="unknown_list"
    )


def order_list_cancel_unknown() -> ExchangeError:
    return ExchangeError(
        CANCEL_REJECTED, "Unknown order list sent.", reason="unknown_list"
    )
