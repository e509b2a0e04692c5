"""trading.backoffice.services: the back-office services, against the database."""

import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest

from accounts import services as funds
from accounts.models import ApiKey, ReconciliationRun, User
from accounts.reconcile import registered_checks
from exchange.errors import ExchangeError
from matching.registry import registry
from tests.factories import funded_user
from tests.trading.conftest import bal, place
from trading.backoffice import services as ops
from trading.models import Order, Symbol, Trade
from trading.orders import services as order_services
from trading.symbols import locks as symbol_locks
from trading.symbols import services as symbol_services

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal

FILTERS = dict(
    tick_size=D("0.01"),
    step_size=D("0.0001"),
    min_qty=D("0.0001"),
    max_qty=D("1000"),
)


def reconcile_clean():
    for name, check in registered_checks():
        assert check() == [], name


def add_asset(code: str, decimals: int = 8):
    from accounts.models import Asset

    Asset.objects.get_or_create(code=code, defaults={"decimals": decimals})


# --- symbol_add / symbol_filters_problems -----------------------------------------


def test_symbol_add_lists_a_pair_in_the_status_asked(symbols):
    add_asset("SOL")
    row = ops.symbol_add(
        symbol="SOLUSDT",
        base="SOL",
        quote="USDT",
        status="HALT",
        market_max_qty=D("100"),
        max_notional=D("1000000"),
        **FILTERS,
    )
    row.refresh_from_db()
    assert (row.status, row.market_max_qty, row.max_notional) == (
        "HALT",
        D(100),
        D(1000000),
    )
    assert row.tick_size == D("0.01") and row.book_seq == 0


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(symbol="BTCUSDT"), "already exists"),
        (dict(symbol="SOLBTC"), "base then its quote: SOLUSDT"),
        (dict(symbol="sol-usdt"), "capital letters"),
        (dict(status="OPEN"), "Unknown status"),
        (dict(quote="XYZ", symbol="SOLXYZ"), "Unknown asset"),
        (dict(step_size=D("0.000000001")), "stepSize finer than SOL"),
        (dict(tick_size=D("0.00001"), step_size=D("0.00001")), "tickSize * stepSize"),
        (dict(min_qty=D("0.00015")), "multiples of stepSize"),
        (dict(min_qty=D("5"), max_qty=D("1")), "0 < minQty <= maxQty"),
        (dict(min_price=D("0.015")), "multiples of tickSize"),
        (dict(min_price=D("10"), max_price=D("5")), "minPrice <= maxPrice"),
        (dict(market_max_qty=D("0.00005")), "marketMaxQty must be a multiple"),
        (dict(min_notional=D("10"), max_notional=D("5")), "minNotional <= max"),
        (dict(max_num_orders=0), "maxNumOrders"),
        (dict(maker_fee=D("1")), "fees must be in [0, 1)"),
    ],
)
def test_symbol_add_refuses_with_the_reason(symbols, changes, message):
    add_asset("SOL")
    request = dict(symbol="SOLUSDT", base="SOL", quote="USDT", **FILTERS)
    request.update(changes)
    if request["symbol"] == "BTCUSDT":
        request.update(base="BTC")
    with pytest.raises(ExchangeError, match=re.escape(message)) as info:
        ops.symbol_add(**request)
    assert info.value.code == -1130
    assert not Symbol.objects.filter(symbol="SOLUSDT", base_id="SOL").exists()


def test_a_symbol_from_the_demo_set_has_no_problems(symbols):
    from trading.backoffice.demo import SYMBOLS

    for spec in SYMBOLS:
        fields = {k: v for k, v in spec.items() if k != "symbol"}
        assert ops.symbol_filters_problems(**fields) == []


# --- symbol_update -------------------------------------------------------------------


def test_symbol_update_changes_fees_under_the_pair_lock(symbols):
    with mock.patch(
        "trading.backoffice.services.pair_locked", wraps=symbol_locks.pair_locked
    ) as lock:
        result = ops.symbol_update(
            symbol="BTCUSDT", maker_fee=D("0.0005"), taker_fee=D("0.001")
        )
    lock.assert_called_once_with("BTCUSDT")
    assert result.changed == {"maker_fee": (D("0.001"), D("0.0005"))}
    row = Symbol.objects.get(symbol="BTCUSDT")
    assert row.maker_fee == D("0.0005") and row.taker_fee == D("0.001")
    # The same values again (even written differently) change nothing.
    assert ops.symbol_update(symbol="BTCUSDT", maker_fee=D("0.00050")).changed == {}


def test_new_filters_apply_to_the_next_order(symbols):
    user = funded_user(USDT="100000")
    place(user, "BUY", "0.001", "50000")  # notional 50: fine under minNotional 5
    ops.symbol_update(symbol="BTCUSDT", min_notional=D("100"))
    with pytest.raises(ExchangeError) as info:
        place(user, "BUY", "0.001", "50000")
    assert info.value.code == -1013 and "NOTIONAL" in info.value.msg


def test_symbol_update_checks_the_whole_resulting_set(symbols):
    before = Symbol.objects.filter(symbol="BTCUSDT").values().get()
    with pytest.raises(ExchangeError, match="multiples of stepSize"):
        ops.symbol_update(symbol="BTCUSDT", min_qty=D("0.000015"))
    with pytest.raises(ExchangeError, match="0 < minQty <= maxQty"):
        ops.symbol_update(symbol="BTCUSDT", max_qty=D("0.000001"), min_qty=D("1"))
    with pytest.raises(ExchangeError, match="Invalid symbol"):
        ops.symbol_update(symbol="NOPE", maker_fee=D("0.001"))
    assert Symbol.objects.filter(symbol="BTCUSDT").values().get() == before


def test_tick_size_changes_only_on_an_empty_book(symbols):
    user = funded_user(USDT="100000")
    resting = place(user, "BUY", "0.001", "50000.01").order
    with pytest.raises(ExchangeError, match="no open orders"):
        ops.symbol_update(symbol="BTCUSDT", tick_size=D("0.1"))
    assert Symbol.objects.get(symbol="BTCUSDT").tick_size == D("0.01")
    order_services.order_cancel(
        user_id=user.id, symbol="BTCUSDT", order_id=resting.order_id
    )
    result = ops.symbol_update(symbol="BTCUSDT", tick_size=D("0.1"))
    assert set(result.changed) == {"tick_size"}
    assert registry.slot("BTCUSDT").stale
    with pytest.raises(ExchangeError, match="PRICE_FILTER"):
        place(user, "BUY", "0.001", "50000.01")
    assert place(user, "BUY", "0.001", "50000.1").order.status == "NEW"
    seller = funded_user(BTC="1")
    assert place(seller, "SELL", "0.001", "50000.1").order.status == "FILLED"
    reconcile_clean()


# --- cancels -----------------------------------------------------------------------


def test_order_cancel_many_cancels_open_orders_and_skips_closed_ones(symbols):
    alice = funded_user(USDT="100000")
    bob = funded_user(BTC="1")
    open_one = place(alice, "BUY", "0.01", "50000").order
    filled = place(alice, "BUY", "0.01", "60000").order
    place(bob, "SELL", "0.01", "60000")
    orders = Order.objects.filter(
        symbol_id="BTCUSDT", order_id__in=[open_one.order_id, filled.order_id]
    ).order_by("order_id")
    outcome = ops.order_cancel_many(orders=orders)
    assert [str(o) for o in outcome.cancelled] == [str(open_one)]
    assert [(str(o), why) for o, why in outcome.skipped] == [
        (str(filled), "already FILLED")
    ]
    assert Order.objects.get(pk=open_one.pk).status == "CANCELED"
    assert bal(alice, "USDT")[1] == 0
    reconcile_clean()


def test_order_cancel_many_skips_an_order_closed_since_it_was_read(symbols):
    alice = funded_user(USDT="100000")
    order = place(alice, "BUY", "0.01", "50000").order
    stale_row = Order.objects.get(pk=order.pk)
    order_services.order_cancel(
        user_id=alice.id, symbol="BTCUSDT", order_id=order.order_id
    )
    outcome = ops.order_cancel_many(orders=[stale_row])
    assert outcome.cancelled == []
    assert outcome.skipped[0][1] == "Unknown order sent."


def test_order_cancel_matching_by_symbol_user_both_and_all(symbols):
    alice = funded_user(USDT="100000", BTC="10", ETH="10")
    bob = funded_user(USDT="100000", BTC="10", ETH="10")
    for user in (alice, bob):
        place(user, "BUY", "0.01", "50000")
        place(user, "BUY", "0.01", "3000", symbol="ETHUSDT")
        place(user, "SELL", "0.01", "0.06", symbol="ETHBTC")
    calls = []
    counts = ops.order_cancel_matching(
        symbol="BTCUSDT", user_id=alice.id, progress=lambda *a: calls.append(a)
    )
    assert counts == {"BTCUSDT": 1} and calls == [(1, 1)]
    assert ops.order_cancel_matching(user_id=alice.id) == {"ETHUSDT": 1, "ETHBTC": 1}
    calls.clear()
    counts = ops.order_cancel_matching(
        symbol="ETHUSDT", progress=lambda *a: calls.append(a)
    )
    assert counts == {"ETHUSDT": 1} and calls == [(1, 1)]
    assert ops.order_cancel_matching() == {"BTCUSDT": 1, "ETHBTC": 1}
    assert ops.order_cancel_matching() == {}
    assert not Order.objects.filter(status__in=["NEW", "PARTIALLY_FILLED"]).exists()
    with pytest.raises(ExchangeError, match="Invalid symbol"):
        ops.order_cancel_matching(symbol="NOPE")
    reconcile_clean()


# --- users ---------------------------------------------------------------------------


def test_disabling_a_user_cancels_orders_everywhere_and_revokes_keys(symbols):
    mallory = funded_user(USDT="100000", ETH="10")
    other = funded_user(USDT="100000")
    funds.apikey_create(user_id=mallory.id, permissions=["read", "trade"])
    mine = [
        place(mallory, "BUY", "0.01", "50000").order,
        place(mallory, "BUY", "0.01", "49000").order,
        place(mallory, "SELL", "0.5", "0.07", symbol="ETHBTC").order,
    ]
    theirs = place(other, "BUY", "0.01", "50000").order
    cancelled = ops.user_disable_with_orders(user_id=mallory.id)
    assert sorted(str(o) for o in cancelled) == sorted(str(o) for o in mine)
    assert not User.objects.get(pk=mallory.pk).is_active
    assert not ApiKey.objects.filter(user=mallory, revoked_at=None).exists()
    assert bal(mallory, "USDT") == (D(100000), D(0))
    assert bal(mallory, "ETH") == (D(10), D(0))
    assert Order.objects.get(pk=theirs.pk).status == "NEW"
    reconcile_clean()
    with pytest.raises(ExchangeError, match="Unknown user"):
        ops.user_disable_with_orders(user_id=10**9)


# --- trades export -------------------------------------------------------------------


def trade_at(buyer, seller, price: str, qty: str, when_ms: int) -> Trade:
    place(seller, "SELL", qty, price)
    place(buyer, "BUY", qty, price)
    trade = Trade.objects.order_by("-id").first()
    Trade.objects.filter(pk=trade.pk).update(time=when_ms)
    return trade


def test_trade_export_rows_in_a_window_in_trade_order(symbols):
    buyer = funded_user(USDT="100000")
    seller = funded_user(BTC="1")
    day = ops.datetime_to_ms(datetime(2026, 3, 1, tzinfo=UTC))
    trade_at(buyer, seller, "60000", "0.01", day - 1)
    trade_at(buyer, seller, "60000.5", "0.002", day)
    trade_at(buyer, seller, "60001", "0.003", day + 1000)
    rows = list(ops.trade_export_rows(symbol="BTCUSDT", since_ms=day))
    assert [r[1] for r in rows] == ["2", "3"]
    assert rows[0] == [
        "BTCUSDT",
        "2",
        str(day),
        "2026-03-01T00:00:00.000+00:00",
        "60000.5",
        "0.002",
        "120.001",
        buyer.username,
        seller.username,
        "4",
        "3",
        "false",
        "0.000002",
        "0.120001",
    ]
    assert len(rows[0]) == len(ops.TRADE_EXPORT_HEADER)
    assert ops.trade_export_count(symbol="BTCUSDT", since_ms=day) == 2
    until = list(
        ops.trade_export_rows(symbol="BTCUSDT", since_ms=0, until_ms=day + 1000)
    )
    assert [r[1] for r in until] == ["1", "2"]
    assert list(ops.trade_export_rows(symbol="ETHUSDT", since_ms=0)) == []
    with pytest.raises(ExchangeError, match="Invalid symbol"):
        list(ops.trade_export_rows(symbol="NOPE", since_ms=0))


# --- the overview --------------------------------------------------------------------


def test_symbol_overview_list(symbols):
    buyer = funded_user(USDT="100000")
    seller = funded_user(BTC="1")
    now = ops.datetime_to_ms(datetime(2026, 3, 2, tzinfo=UTC))
    trade_at(buyer, seller, "60000", "0.01", now - ops.DAY_MS - 1)  # too old
    trade_at(buyer, seller, "60000", "0.02", now - ops.DAY_MS)
    trade_at(buyer, seller, "61000", "0.001", now - 1)
    place(buyer, "BUY", "0.01", "59000")
    place(buyer, "BUY", "0.01", "59500.5")
    place(seller, "SELL", "0.01", "62000")
    symbol_services.symbol_set_status(symbol="ETHUSDT", status="HALT")
    rows = {row.symbol: row for row in ops.symbol_overview_list(now_ms=now)}
    assert list(rows) == ["BTCUSDT", "ETHBTC", "ETHUSDT"]
    btc = rows["BTCUSDT"]
    assert (btc.status, btc.best_bid, btc.best_ask) == (
        "TRADING",
        D("59500.5"),
        D(62000),
    )
    assert (btc.volume_24h, btc.quote_volume_24h) == (D("0.021"), D(1261))
    assert (btc.trades_24h, btc.open_orders) == (2, 3)
    eth = rows["ETHUSDT"]
    assert (eth.status, eth.best_bid, eth.best_ask, eth.open_orders) == (
        "HALT",
        None,
        None,
        0,
    )
    assert eth.volume_24h == 0 and eth.trades_24h == 0


def test_reconciliation_last_is_the_latest_run(db):
    assert ops.reconciliation_last() is None
    first = datetime(2026, 3, 1, tzinfo=UTC)
    second = datetime(2026, 3, 2, tzinfo=UTC)
    for started, clean in ((second, False), (first, True)):
        ReconciliationRun.objects.create(
            started_at=started, finished_at=started, clean=clean, mismatches=0
        )
    assert ops.reconciliation_last().started_at == second


# --- helpers ------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_on_a_terminal_only():
    screen = Terminal()
    progress = ops.Progress(screen, "cancelling", every=2)
    for done in range(1, 4):
        progress(done, 3)
    progress.finish()
    assert screen.getvalue() == "\rcancelling: 2/3\rcancelling: 3/3\n"
    piped = io.StringIO()
    quiet = ops.Progress(piped, "cancelling")
    quiet(1, 1)
    quiet.finish()
    assert piped.getvalue() == "" and not quiet.enabled


@pytest.mark.parametrize(
    "value, text",
    [
        (D("60000.000000000000000000"), "60000"),
        (D("0.001500000000000000"), "0.0015"),
        (D("0E-18"), "0"),
        (D("-1.50"), "-1.5"),
        (D("1E+3"), "1000"),
    ],
)
def test_amount_text(value, text):
    assert ops.amount_text(value) == text


def test_time_columns_round_trip_exactly():
    moment = datetime(2026, 3, 1, 12, 30, 5, 123000, tzinfo=UTC)
    ms = ops.datetime_to_ms(moment)
    assert ms == 1772368205123
    assert ops.ms_to_datetime(ms) == moment
