"""Hypothesis on the order parameters, through HTTP: POST /api/v3/order and
/api/v3/order/test.

Each example takes a valid order and breaks it in one way (a bad number, an
unknown enum, a missing or repeated parameter, a control character, an oversized
body...). Whatever the break, the answer is a Binance refusal, a 4xx with exactly
``{"code": <negative int>, "msg": str}``, and nothing changes: balances, orders,
trades, the ledger, the symbols' counters and the process's book are as before.
Derandomized, bounded: the same examples on every run.
"""

from __future__ import annotations

import json
import os
import string
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from matching.registry import registry
from tests.security.clients import snapshot

ORDER_PATHS = ("/api/v3/order", "/api/v3/order/test")
KNOWN_CODES = {
    -1013,  # filter failure
    -1100,  # illegal characters
    -1101,  # duplicate / too many parameters
    -1102,  # mandatory parameter missing or empty
    -1106,  # parameter sent when not required
    -1108,  # overflow
    -1111,  # precision
    -1115,  # bad timeInForce
    -1116,  # bad order type
    -1117,  # bad side
    -1118,  # empty newClientOrderId
    -1121,  # bad symbol
    -1130,  # bad parameter data
    -2010,  # new order rejected
}
LIMIT = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01",
    "price": "50000",
}
MARKET_BY_QUOTE = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "MARKET",
    "quoteOrderQty": "100",
}
MARKET_BY_QUANTITY = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "MARKET",
    "quantity": "0.01",
}
BASES = {"LIMIT": LIMIT, "MARKET_QUOTE": MARKET_BY_QUOTE, "MARKET": MARKET_BY_QUANTITY}
REQUIRED = {
    "LIMIT": ["symbol", "side", "type", "timeInForce", "quantity", "price"],
    "MARKET_QUOTE": ["symbol", "side", "type", "quoteOrderQty"],
    "MARKET": ["symbol", "side", "type", "quantity"],
}
DECIMALS = {
    "LIMIT": ["quantity", "price"],
    "MARKET_QUOTE": ["quoteOrderQty"],
    "MARKET": ["quantity"],
}
ENUMS = {
    "side": ["BUY", "SELL"],
    "type": ["LIMIT", "MARKET", "LIMIT_MAKER"],
    "timeInForce": ["GTC", "IOC", "FOK"],
    "newOrderRespType": ["ACK", "RESULT", "FULL"],
    "selfTradePreventionMode": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    "symbol": ["BTCUSDT", "ETHUSDT", "ETHBTC"],
}
ENUM_CODES = {
    "side": {-1117},
    "type": {-1116, -2010},  # -2010 for the stop and take-profit kinds
    "timeInForce": {-1115},
    "newOrderRespType": {-1130},
    "selfTradePreventionMode": {-1130},
    "symbol": {-1100, -1121},
}

FUZZ = settings(
    # FUZZ_EXAMPLES=500 for a longer run by hand.
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- Bad values -------------------------------------------------------------------

digits = st.text(string.digits, min_size=1, max_size=8)
negative = st.builds(lambda d: f"-{d}", st.sampled_from(["0.01", "1", "50000", "0"]))
zero = st.sampled_from(["0", "0.0", "0.00000000", "00", "0.00000000000000000000"])
not_a_number = st.sampled_from(
    ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "-inf", "+Inf", "1e999"]
)
exponent = st.builds(
    lambda m, e: f"{m}{e}",
    st.sampled_from(["1", "5", "0.5", "1.0"]),
    st.sampled_from(["e5", "E5", "e-2", "e+3", "E0"]),
)
# More than 20 decimal places (the grammar's limit).
too_many_places = st.builds(
    lambda whole, tail: f"{whole}.{tail}",
    st.sampled_from(["0", "1", "50000"]),
    st.text(string.digits, min_size=21, max_size=40),
)
# Within 20 places, but finer than the symbol's step or tick.
too_fine = st.sampled_from(
    ["0.010000001", "50000.001", "0.00000000000000000001", "100.123456789"]
)
# More than 20 integer digits, past int64 and beyond.
huge = st.one_of(
    st.integers(min_value=10**20, max_value=10**40).map(str),
    st.just(str(2**63)),
    st.just("9" * 21 + ".5"),
)
wrong_type = st.sampled_from(
    [
        "abc",
        "true",
        "null",
        "[1]",
        '{"a":1}',
        "0x10",
        "1,5",
        " 1",
        "1 ",
        "+1",
        ".5",
        "5.",
        "1..2",
        "1_000",
        "--1",
        "0.01;",
    ]
)
unicode_digits = st.sampled_from(["１２", "٣", "۵.۵", "1\u200b", "\u0661", "½"])
control = st.builds(
    lambda c, at: f"0.01{c}" if at else f"{c}0.01",
    st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]),
    st.booleans(),
)
BAD_DECIMALS = {
    "negative": (negative, {-1100}),
    "zero": (zero, {-1013}),
    "not_a_number": (not_a_number, {-1100}),
    "exponent": (exponent, {-1100}),
    "too_many_places": (too_many_places, {-1100}),
    "too_fine": (too_fine, {-1013}),
    # 2**63 still fits the grammar's 20 digits: then a filter or the funds refuse.
    "huge": (huge, {-1100, -1013, -2010}),
    "wrong_type": (wrong_type, {-1100}),
    "unicode_digits": (unicode_digits, {-1100}),
    "control": (control, {-1100}),
}


def bad_decimal():
    return st.sampled_from(sorted(BAD_DECIMALS)).flatmap(
        lambda kind: st.tuples(st.just(kind), BAD_DECIMALS[kind][0])
    )


def unknown(name: str):
    """A value that is not one of the parameter's enum values."""
    return st.one_of(
        st.sampled_from(ENUMS[name]).map(str.lower),
        st.sampled_from(ENUMS[name]).map(lambda v: v + " "),
        st.sampled_from(ENUMS[name]).map(lambda v: v[:-1]),
        st.text(min_size=1, max_size=12),
    ).filter(lambda v: v not in ENUMS[name] and v.strip() != "")


# --- Requests ---------------------------------------------------------------------


def encode(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def send(client, path: str, pairs: list[tuple[str, str]], where: str):
    """POST the pairs, in the query string or the form body (a signed client adds
    ``timestamp`` and ``signature``)."""
    encoded = encode(pairs)
    if where == "query":
        return client.post(path, encoded)
    return client.post(path, None, encoded)


def assert_refused(answer, codes: set[int] | None = None) -> None:
    assert 400 <= answer.status < 500, (answer.status, answer.body)
    assert isinstance(answer.body, dict), answer.body
    assert set(answer.body) == {"code", "msg"}, answer.body
    code, msg = answer.body["code"], answer.body["msg"]
    assert isinstance(code, int) and code < 0, answer.body
    assert isinstance(msg, str) and msg, answer.body
    assert code in KNOWN_CODES, answer.body
    if codes is not None:
        assert code in codes, answer.body


def book_state() -> dict:
    """The database state, and the books this process holds in memory."""
    books = {}
    for symbol in ENUMS["symbol"]:
        slot = registry.slot(symbol)
        books[symbol] = None if slot.stale else (slot.seq, slot.book.depth(1000))
    return {"db": snapshot(), "books": books}


def refused_everywhere(market, pairs, where, codes=None) -> None:
    note(f"{where}: {pairs!r}")
    before = book_state()
    for client in (market.bearer, market.signed):
        for path in ORDER_PATHS:
            assert_refused(send(client, path, pairs, where), codes)
    assert book_state() == before


where = st.sampled_from(["query", "body"])


# --- Properties ---------------------------------------------------------------------


@FUZZ
@given(
    base=st.sampled_from(sorted(BASES)), bad=bad_decimal(), where=where, data=st.data()
)
def test_bad_numbers_are_refused_and_change_nothing(market, base, bad, where, data):
    kind, value = bad
    name = data.draw(st.sampled_from(DECIMALS[base]), label="parameter")
    # A market order's quote amount has no maximum (applyMaxToMarket is false):
    # order/test takes 2**63 as Binance's does.
    assume(not (kind == "huge" and name == "quoteOrderQty" and len(value) <= 20))
    # A quote amount has no step: it is rounded down, so finer is not wrong.
    assume(not (kind == "too_fine" and name == "quoteOrderQty"))
    pairs = [(k, value if k == name else v) for k, v in BASES[base].items()]
    codes = set(BAD_DECIMALS[kind][1])
    refused_everywhere(market, pairs, where, codes)


@FUZZ
@given(
    base=st.sampled_from(sorted(BASES)),
    name=st.sampled_from(sorted(ENUMS)),
    where=where,
    data=st.data(),
)
def test_unknown_enum_values_are_refused_and_change_nothing(
    market, base, name, where, data
):
    value = data.draw(unknown(name), label="value")
    order = dict(BASES[base])
    if name == "timeInForce" and base != "LIMIT":
        return  # not taken by market orders: covered by -1106 below
    order[name] = value
    pairs = list(order.items())
    codes = set(ENUM_CODES[name])
    if name == "type":
        # The order's other fields may not suit the type it was not meant to be.
        codes |= {-1102, -1106}
    refused_everywhere(market, pairs, where, codes)


@FUZZ
@given(
    base=st.sampled_from(sorted(BASES)),
    where=where,
    data=st.data(),
)
def test_missing_or_empty_parameters_are_refused_and_change_nothing(
    market, base, where, data
):
    name = data.draw(st.sampled_from(REQUIRED[base]), label="parameter")
    empty = data.draw(st.booleans(), label="empty")
    order = dict(BASES[base])
    if empty:
        order[name] = ""
    else:
        del order[name]
    codes = {-1102}
    if name == "type" or (name == "timeInForce" and not empty):
        codes = {-1102, -1106, -1115}
    refused_everywhere(market, list(order.items()), where, codes)


@FUZZ
@given(
    base=st.sampled_from(sorted(BASES)),
    where=where,
    same_value=st.booleans(),
    data=st.data(),
)
def test_a_repeated_parameter_is_1101_and_changes_nothing(
    market, base, where, same_value, data
):
    """Twice in the query string, or twice in the body. (Once in each is not a
    repeat: the query string's value is read, as on Binance.)"""
    order = dict(BASES[base])
    name = data.draw(st.sampled_from(sorted(order)), label="parameter")
    again = order[name] if same_value else order[name] + "0"
    pairs = list(order.items()) + [(name, again)]
    refused_everywhere(market, pairs, where, {-1101})


@FUZZ
@given(
    base=st.sampled_from(sorted(BASES)),
    text=st.text(
        st.characters(
            categories=["Cc", "Cf", "Co", "Zs", "Zl", "Zp", "Mn", "So", "Lo"],
            exclude_characters="&=",
        ),
        min_size=1,
        max_size=16,
    ),
    where=where,
    data=st.data(),
)
def test_control_and_unicode_characters_anywhere_are_refused(
    market, base, text, where, data
):
    order = dict(BASES[base])
    name = data.draw(st.sampled_from(sorted(order)), label="parameter")
    position = data.draw(st.sampled_from(["prefix", "suffix", "replace"]))
    value = {
        "prefix": text + order[name],
        "suffix": order[name] + text,
        "replace": text,
    }[position]
    order[name] = value
    refused_everywhere(market, list(order.items()), where)


@pytest.mark.parametrize("where", ["query", "body"])
@pytest.mark.parametrize("path", ORDER_PATHS)
def test_a_new_client_order_id_out_of_grammar_is_refused(market, where, path):
    before = book_state()
    for value, codes in [
        ("", {-1118}),
        ("x" * 37, {-1100}),
        ("a b", {-1100}),
        ("id#1", {-1100}),
        ("id+1", {-1100}),
        ("ïd", {-1100}),
        ("id\n", {-1100}),
        ("id\x00", {-1100}),
    ]:
        pairs = list({**LIMIT, "newClientOrderId": value}.items())
        for client in (market.bearer, market.signed):
            assert_refused(send(client, path, pairs, where), codes)
    assert book_state() == before


@pytest.mark.parametrize("size", [64 * 1024 + 1, 256 * 1024, 2 * 1024 * 1024])
@pytest.mark.parametrize("path", ORDER_PATHS)
def test_an_oversized_body_is_refused_in_binance_shape(market, path, size):
    """Past DATA_UPLOAD_MAX_MEMORY_SIZE (64 KiB) the body is not read at all."""
    before = book_state()
    padding = "x" * size
    for client in (market.bearer, market.signed):
        answer = send(client, path, [*LIMIT.items(), ("pad", padding)], "body")
        assert_refused(answer)
        assert answer.status == 413
    assert book_state() == before


@pytest.mark.parametrize("path", ORDER_PATHS)
def test_a_json_body_carries_no_order_parameters(market, path):
    """Binance reads parameters from the query string and a form body only."""
    before = book_state()
    answer = market.bearer.client.post(
        path,
        data=json.dumps(LIMIT),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {market.bearer.token}",
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == -1102
    assert book_state() == before


@pytest.mark.parametrize("path", ORDER_PATHS)
def test_a_price_past_int64_is_a_filter_failure(market, path):
    """Past the engine's int64 ticks, a price is refused by a filter (the
    9,000,000 maxNotional exchangeInfo shows), before the engine sees it."""
    before = book_state()
    pairs = list({**LIMIT, "price": str(2**63)}.items())
    answer = send(market.bearer, path, pairs, "query")
    assert book_state() == before
    assert_refused(answer, {-1013})
