"""order_place and order_cancel against the database: funds, fees, book, errors."""

from decimal import Decimal
from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction

from accounts import services as funds
from accounts.reconcile import registered_checks
from exchange import errors
from exchange.errors import ExchangeError
from matching.registry import registry
from tests.factories import funded_user
from tests.trading.conftest import bal, place, state
from trading.models import Order, Symbol, Trade
from trading.orders import fastpath, persist
from trading.orders import services as order_services
from trading.orders import types as order_types
from trading.symbols import services as symbol_services

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def reconcile_clean():
    for name, check in registered_checks():
        assert check() == [], name


def test_a_limit_order_rests_and_locks_its_funds_then_cancel_releases(symbols):
    alice = funded_user(USDT="1000")
    placed = place(alice, "BUY", "0.01", "50000")
    assert placed.order.status == "NEW" and placed.fills == []
    assert bal(alice, "USDT") == (D(500), D(500))
    book = registry.slot("BTCUSDT").book
    assert book.best_bid() == 5000000
    cancelled = order_services.order_cancel(
        user_id=alice.id, symbol="BTCUSDT", order_id=placed.order.order_id
    )
    assert cancelled.status == "CANCELED"
    assert bal(alice, "USDT") == (D(1000), D(0))
    assert registry.slot("BTCUSDT").book.best_bid() is None
    reconcile_clean()


def test_crossing_orders_trade_at_the_maker_price_with_fees(symbols):
    seller = funded_user(BTC="1")
    buyer = funded_user(USDT="10000")
    place(seller, "SELL", "0.1", "60000")
    taker = place(buyer, "BUY", "0.05", "61000")
    assert taker.order.status == "FILLED"
    assert [(f.price, f.qty) for f in taker.fills] == [(D(60000), D("0.05"))]
    # Taker buyer pays 0.1% of the base bought; the maker seller 0.1% of the quote.
    assert taker.fills[0].commission == D("0.00005")
    assert taker.fills[0].commission_asset == "BTC"
    assert bal(buyer, "USDT") == (D(7000), D(0))  # price improvement released
    assert bal(buyer, "BTC") == (D("0.04995"), D(0))
    assert bal(seller, "BTC") == (D("0.9"), D("0.05"))
    assert bal(seller, "USDT") == (D("2997"), D(0))
    fees = funds.fee_account_id()
    assert bal(type(buyer)(id=fees), "BTC")[0] == D("0.00005")
    assert bal(type(buyer)(id=fees), "USDT")[0] == D(3)
    trade = Trade.objects.get()
    assert (trade.buyer_id, trade.seller_id, trade.is_buyer_maker) == (
        buyer.id,
        seller.id,
        False,
    )
    maker = Order.objects.get(user=seller)
    assert maker.status == "PARTIALLY_FILLED" and maker.executed_qty == D("0.05")
    reconcile_clean()


def test_price_time_priority(symbols):
    first, second, better = (funded_user(BTC="1") for _ in range(3))
    buyer = funded_user(USDT="100000")
    a = place(first, "SELL", "0.01", "60000").order
    b = place(second, "SELL", "0.01", "60000").order
    c = place(better, "SELL", "0.01", "59990").order
    taker = place(buyer, "BUY", "0.025", "60000")
    assert [f.price for f in taker.fills] == [D("59990"), D(60000), D(60000)]
    filled = {
        o.order_id: o
        for o in Order.objects.filter(order_id__in=[a.order_id, b.order_id, c.order_id])
    }
    assert filled[c.order_id].status == "FILLED"
    assert filled[a.order_id].status == "FILLED"
    assert filled[b.order_id].executed_qty == D("0.005")
    reconcile_clean()


def test_market_orders_by_quantity_and_by_quote_amount(symbols):
    maker = funded_user(BTC="1", USDT="100000")
    taker = funded_user(USDT="100000", BTC="1")
    place(maker, "SELL", "0.01", "60000")
    place(maker, "SELL", "0.01", "60100")
    by_qty = place(taker, "BUY", "0.015", type="MARKET")
    assert by_qty.order.status == "FILLED"
    assert by_qty.order.cummulative_quote_qty == D(600) + D("300.5")
    by_quote = place(taker, "BUY", type="MARKET", quote_order_qty=D("150.25"))
    # 150.25 USDT at 60100 buys 0.0025 BTC exactly.
    assert by_quote.order.executed_qty == D("0.0025")
    assert by_quote.order.cummulative_quote_qty == D("150.25")
    place(maker, "BUY", "0.01", "59000")
    sold = place(taker, "SELL", type="MARKET", quote_order_qty=D("100"))
    assert sold.order.cummulative_quote_qty <= D(100)
    empty_side = place(taker, "BUY", "5", type="MARKET")  # more than the book has
    assert empty_side.order.status == "EXPIRED"
    reconcile_clean()


def test_ioc_and_fok(symbols):
    maker = funded_user(BTC="1")
    taker = funded_user(USDT="100000")
    place(maker, "SELL", "0.01", "60000")
    fok = place(taker, "BUY", "0.02", "60000", tif="FOK")
    assert fok.order.status == "EXPIRED" and fok.fills == []
    ioc = place(taker, "BUY", "0.02", "60000", tif="IOC")
    assert ioc.order.status == "EXPIRED" and ioc.order.executed_qty == D("0.01")
    assert bal(taker, "USDT")[1] == 0
    reconcile_clean()


def test_limit_maker_that_would_take_is_refused_and_changes_nothing(symbols):
    maker = funded_user(BTC="1")
    taker = funded_user(USDT="100000")
    place(maker, "SELL", "0.01", "60000")
    before = state()
    with pytest.raises(ExchangeError) as info:
        place(taker, "BUY", "0.01", "60000", type="LIMIT_MAKER", tif=None)
    assert info.value.code == -2010
    assert info.value.msg == "Order would immediately match and take."
    assert state() == before
    rested = place(taker, "BUY", "0.01", "59999", type="LIMIT_MAKER")
    assert rested.order.status == "NEW"


def test_self_trade_prevention_expire_maker_releases_the_maker(symbols):
    user = funded_user(BTC="1", USDT="100000")
    maker = place(user, "BUY", "0.01", "60000").order
    taker = place(
        user, "SELL", "0.01", "59000", self_trade_prevention_mode="EXPIRE_MAKER"
    )
    assert taker.fills == []
    assert (
        Order.objects.get(order_id=maker.order_id, symbol="BTCUSDT").status
        == "EXPIRED_IN_MATCH"
    )
    assert bal(user, "USDT") == (D(100000), 0)
    reconcile_clean()


@pytest.mark.parametrize(
    "qty, price, message",
    [
        ("0.000001", "60000", "Filter failure: LOT_SIZE"),
        ("0.000015", "60000", "Filter failure: LOT_SIZE"),
        ("10000", "60000", "Filter failure: LOT_SIZE"),
        ("0.01", "60000.001", "Filter failure: PRICE_FILTER"),
        ("0.00001", "100", "Filter failure: NOTIONAL"),
    ],
)
def test_filter_failures_are_1013_and_change_nothing(symbols, qty, price, message):
    user = funded_user(USDT="1000000")
    before = state()
    with pytest.raises(ExchangeError) as info:
        place(user, "BUY", qty, price)
    assert (info.value.code, info.value.msg) == (-1013, message)
    assert state() == before


def test_insufficient_balance_is_refused_and_changes_nothing(symbols):
    user = funded_user(USDT="100")
    seller = funded_user(BTC="1")
    place(seller, "SELL", "0.01", "60000")
    before = state()
    for attempt in (
        lambda: place(user, "BUY", "0.01", "60000"),
        lambda: place(user, "BUY", "0.01", type="MARKET"),
        lambda: place(user, "SELL", "0.01", "70000"),
    ):
        with pytest.raises(ExchangeError) as info:
            attempt()
        assert (
            info.value.msg == "Account has insufficient balance for requested action."
        )
        assert state() == before


def test_halted_market_refuses_orders_but_accepts_cancels(symbols):
    user = funded_user(USDT="1000")
    resting = place(user, "BUY", "0.001", "50000").order
    symbol_services.symbol_set_status(symbol="BTCUSDT", status="HALT")
    with pytest.raises(ExchangeError) as info:
        place(user, "BUY", "0.001", "50000")
    assert (info.value.code, info.value.msg) == (-2010, "Market is closed.")
    order_services.order_cancel(
        user_id=user.id, symbol="BTCUSDT", order_id=resting.order_id
    )
    symbol_services.symbol_set_status(symbol="BTCUSDT", status="TRADING")
    assert place(user, "BUY", "0.001", "50000").order.status == "NEW"


def test_duplicate_open_client_order_id_is_refused(symbols, settings):
    """Binance's rule alone (the reuse window off: tests/trading/api has it on)."""
    settings.CLIENT_ORDER_ID_REUSE_SECONDS = 0
    user = funded_user(USDT="1000")
    place(user, "BUY", "0.001", "50000", new_client_order_id="my-order-1")
    with pytest.raises(ExchangeError) as info:
        place(user, "BUY", "0.001", "50000", new_client_order_id="my-order-1")
    assert info.value.msg == "Duplicate order sent."
    order_services.order_cancel(
        user_id=user.id, symbol="BTCUSDT", orig_client_order_id="my-order-1"
    )
    assert place(user, "BUY", "0.001", "50000", new_client_order_id="my-order-1").order


def test_max_num_orders(symbols):
    Symbol.objects.filter(symbol="BTCUSDT").update(max_num_orders=2)
    user = funded_user(USDT="1000")
    place(user, "BUY", "0.001", "50000")
    place(user, "BUY", "0.001", "50000")
    with pytest.raises(ExchangeError) as info:
        place(user, "BUY", "0.001", "50000")
    assert info.value.msg == "Filter failure: MAX_NUM_ORDERS"


def test_cancel_of_another_users_order_is_unknown(symbols):
    owner = funded_user(USDT="1000")
    intruder = funded_user(USDT="1000")
    order = place(owner, "BUY", "0.001", "50000").order
    with pytest.raises(ExchangeError) as info:
        order_services.order_cancel(
            user_id=intruder.id, symbol="BTCUSDT", order_id=order.order_id
        )
    assert (info.value.code, info.value.msg) == (-2011, "Unknown order sent.")
    with pytest.raises(ExchangeError) as missing:
        order_services.order_cancel(
            user_id=intruder.id, symbol="BTCUSDT", order_id=999999
        )
    assert missing.value.as_dict() == info.value.as_dict()
    assert Order.objects.get(symbol="BTCUSDT", order_id=order.order_id).status == "NEW"


def test_cancel_all(symbols):
    user = funded_user(USDT="1000", BTC="1")
    place(user, "BUY", "0.001", "50000")
    place(user, "SELL", "0.001", "70000")
    cancelled = order_services.order_cancel_all(user_id=user.id, symbol="BTCUSDT")
    assert {o.status for o in cancelled} == {"CANCELED"} and len(cancelled) == 2
    assert bal(user, "USDT") == (D(1000), 0) and bal(user, "BTC") == (D(1), 0)
    assert len(registry.slot("BTCUSDT").book) == 0
    reconcile_clean()


def _last_write_fails():
    """Make the placement's last write fail once everything else is written: on
    PostgreSQL the last statement of the write pipeline (the COMMIT rides after
    it), elsewhere a failure right after the ORM writes, before the commit."""
    if connection.vendor == "postgresql":
        failing = fastpath.SYMBOL_ADVANCE.replace(
            "book_seq = %s::bigint", "book_seq = %s::bigint / 0"
        )
        return mock.patch("trading.orders.fastpath.SYMBOL_ADVANCE", failing)
    write = persist._placement_write_orm

    def write_then_fail(settlement, order):
        write(settlement, order)
        raise RuntimeError("disk on fire")

    return mock.patch("trading.orders.persist._placement_write_orm", write_then_fail)


@pytest.mark.parametrize(
    "failing",
    ["candle_from_trades", "market_cache.publish_on_commit", "last write", "refusal"],
)
def test_a_failure_mid_persist_leaves_everything_as_before_and_the_book_correct(
    symbols, failing
):
    """Fail after the fills are computed: before anything is written, and at the
    last write, when everything else is written but nothing committed. A refusal
    raised that late rolls back too (refusals before matching commit instead)."""
    seller = funded_user(BTC="1")
    buyer = funded_user(USDT="100000")
    place(seller, "SELL", "0.01", "60000")
    before = state()
    if failing == "last write":
        failure = _last_write_fails()
    elif failing == "refusal":
        refusal = ExchangeError(errors.NEW_ORDER_REJECTED, "Refused late.")
        failure = mock.patch(
            "trading.orders.services.placement_persist", side_effect=refusal
        )
    else:
        failure = mock.patch(
            f"trading.orders.persist.{failing}",
            side_effect=RuntimeError("disk on fire"),
        )
    with failure, pytest.raises((RuntimeError, DatabaseError, ExchangeError)):
        place(buyer, "BUY", "0.01", "60000")
    assert state() == before
    assert registry.slot("BTCUSDT").stale
    # The next order sees the maker still there, untouched.
    retry = place(buyer, "BUY", "0.01", "60000")
    assert retry.order.status == "FILLED" and len(retry.fills) == 1
    reconcile_clean()


def _prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements: PostgreSQL"
)
def test_a_refusal_keeps_the_connections_prepared_statements(symbols):
    """Refusals end their transaction with COMMIT: a ROLLBACK would make psycopg
    deallocate every prepared statement, and the next orders plan them again."""
    user = funded_user(USDT="1000")
    order = place(user, "BUY", "0.001", "50000").order
    order_services.order_cancel(
        user_id=user.id, symbol="BTCUSDT", order_id=order.order_id
    )
    prepared = _prepared_statements()
    assert prepared
    before = state()
    with pytest.raises(ExchangeError) as unknown:
        order_services.order_cancel(user_id=user.id, symbol="BTCUSDT", order_id=999999)
    with pytest.raises(ExchangeError) as poor:
        place(user, "BUY", "1", "50000")
    assert (unknown.value.code, poor.value.code) == (-2011, -2010)
    assert state() == before
    assert prepared <= _prepared_statements()
    assert not connection.in_atomic_block


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="an aborted transaction: PostgreSQL"
)
def test_a_refusal_after_a_failed_statement_rolls_back(symbols):
    """A refusal commits only a transaction that can commit: once PostgreSQL has
    failed a statement in it, the transaction rolls back. The order path's
    prepared statements outlive the rollback, and the next order uses them."""
    user = funded_user(USDT="1000")
    place(user, "BUY", "0.001", "50000")
    prepared = _prepared_statements()
    assert prepared
    before = state()

    def fail_then_refuse(*args):
        with connection.cursor() as cursor:
            try:
                cursor.execute("SELECT 1 / 0")
            except DatabaseError:
                pass
        raise funds.insufficient_balance()

    with (
        mock.patch("trading.orders.services._funds_precheck", fail_then_refuse),
        pytest.raises(ExchangeError),
    ):
        place(user, "BUY", "0.001", "50000")
    assert prepared <= _prepared_statements()
    assert state() == before
    assert place(user, "BUY", "0.001", "50000").order.status == "NEW"


def test_inside_a_callers_transaction_nothing_commits_before_it(symbols):
    """The write pipeline ends the transaction only when it owns it: placed and
    cancelled inside an outer ``atomic()``, the orders roll back with it."""
    user = funded_user(USDT="1000")
    resting = place(user, "BUY", "0.001", "50000").order
    before = state()
    with pytest.raises(RuntimeError), transaction.atomic():
        place(user, "BUY", "0.001", "50000")
        order_services.order_cancel(
            user_id=user.id, symbol="BTCUSDT", order_id=resting.order_id
        )
        raise RuntimeError("the caller changes its mind")
    assert state() == before
    assert registry.slot("BTCUSDT").stale
    # The cancel rolled back too: the order is still there to cancel, and the
    # resynced book holds nothing else.
    cancelled = order_services.order_cancel(
        user_id=user.id, symbol="BTCUSDT", order_id=resting.order_id
    )
    assert cancelled.status == "CANCELED"
    assert len(registry.slot("BTCUSDT").book) == 0
    reconcile_clean()


def test_another_process_changes_are_synced_by_seq_not_rebuilt(symbols):
    seller = funded_user(BTC="1")
    buyer = funded_user(USDT="100000")
    place(seller, "SELL", "0.01", "60000")
    slot = registry.slot("BTCUSDT")
    assert not slot.stale
    book = slot.book
    # Simulate another process: its own registry places an order on the same symbol.
    registry.clear()
    place(seller, "SELL", "0.01", "59000")
    other_seq = registry.slot("BTCUSDT").seq
    registry._slots["BTCUSDT"] = slot  # back to "our" process, one seq behind
    assert slot.seq == other_seq - 1
    taker = place(buyer, "BUY", "0.02", "60000")
    assert slot.book is book, "the book was caught up, not rebuilt"
    assert [f.price for f in taker.fills] == [D(59000), D(60000)]
    reconcile_clean()


def test_the_default_max_notional_shown_in_exchange_info_is_enforced(symbols):
    whale = funded_user(USDT="100000000")
    with pytest.raises(ExchangeError) as info:
        place(whale, "BUY", "200", "60000")  # 12,000,000 USDT > 9,000,000
    assert info.value.msg == "Filter failure: NOTIONAL"


def test_market_orders_meet_the_minimum_notional(symbols):
    """NOTIONAL applies to MARKET orders (applyMinToMarket): by quote amount on
    the amount, by quantity at the best opposite price. A trade too small to
    carry a fee is never made, and a refusal changes nothing."""
    maker = funded_user(BTC="1", USDT="100000")
    place(maker, "SELL", "0.5", "60000")
    place(maker, "BUY", "0.5", "50000")
    taker = funded_user(BTC="1", USDT="1000")
    before = state()
    for side, kwargs in (
        ("BUY", {"quantity": D("0.00001")}),  # 0.6 USDT at 60000 < 5
        ("SELL", {"quantity": D("0.00009")}),  # 4.5 USDT at 50000 < 5
        ("BUY", {"quote_order_qty": D("4.99")}),
        ("SELL", {"quote_order_qty": D("1")}),
    ):
        with pytest.raises(ExchangeError) as info:
            order_services.order_place(
                user_id=taker.id,
                request=order_types.OrderRequest(
                    symbol="BTCUSDT", side=side, type="MARKET", **kwargs
                ),
            )
        assert info.value.msg == "Filter failure: NOTIONAL", (side, kwargs)
    assert state() == before
    filled = place(taker, "BUY", "0.0001", type="MARKET")  # 6 USDT
    assert filled.order.status == "FILLED"
    trade = Trade.objects.filter(symbol_id="BTCUSDT").latest("trade_id")
    assert trade.buyer_fee > 0 and trade.seller_fee > 0
