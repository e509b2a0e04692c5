"""Stop orders on the order path: held funds, triggering after a match, trailing,
cancels, refusals, and a restart that rebuilds the trigger book from the rows.

Runs on the embedded default and on PostgreSQL (DATABASE_URL set)."""

from decimal import Decimal

import pytest

from accounts.reconcile import registered_checks
from exchange.errors import ExchangeError
from matching.registry import registry
from tests.factories import funded_user
from tests.trading.conftest import bal, state
from trading.models import Order, Trade
from trading.orders import services as order_services
from trading.orders import types as order_types

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def reconcile_clean():
    for name, check in registered_checks():
        assert check() == [], name


def order(user, side, type, qty, price=None, tif=None, stop=None, delta=None):
    if tif is None and type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
        tif = "GTC"
    request = order_types.OrderRequest(
        symbol="BTCUSDT",
        side=side,
        type=type,
        quantity=D(qty),
        price=D(price) if price is not None else None,
        time_in_force=tif,
        stop_price=D(stop) if stop is not None else None,
        trailing_delta=delta,
    )
    return order_services.order_place(user_id=user.id, request=request)


@pytest.fixture
def market(symbols):
    """Two traders who print trades at any price: ``trade(price)``."""
    maker = funded_user(BTC="10", USDT="1000000")
    taker = funded_user(BTC="10", USDT="1000000")

    def trade(price, qty="0.01"):
        order(maker, "SELL", "LIMIT", qty, price)
        return order(taker, "BUY", "LIMIT", qty, price)

    return trade


def row(placed) -> Order:
    return Order.objects.get(symbol_id="BTCUSDT", order_id=placed.order.order_id)


def test_stop_loss_limit_holds_funds_waits_off_the_book_then_triggers(market):
    market("60000")
    owner = funded_user(BTC="1")
    placed = order(owner, "SELL", "STOP_LOSS_LIMIT", "0.5", "58000", stop="59000")
    assert placed.order.status == "NEW" and placed.order.working_time is None
    assert bal(owner, "BTC") == (D("0.5"), D("0.5"))
    book = registry.slot("BTCUSDT").book
    assert book.is_pending(placed.order.order_id) and book.best_ask() is None
    reconcile_clean()

    # A bid to sell into, then a trade at the stop price triggers the stop.
    bidder = funded_user(USDT="100000")
    order(bidder, "BUY", "LIMIT", "0.2", "58500")
    market("59000")
    stop = row(placed)
    assert stop.working_time is not None and stop.priority is not None
    assert stop.status == "PARTIALLY_FILLED" and stop.executed_qty == D("0.2")
    trade = Trade.objects.get(seller_order_id=stop.order_id)
    assert trade.price == D(58500) and trade.buyer_id == bidder.id
    # The rest (0.3) rests at its limit price and is on the book.
    assert registry.slot("BTCUSDT").book.best_ask() == 5800000
    assert bal(owner, "BTC") == (D("0.5"), D("0.3"))
    assert bal(owner, "USDT") == (D("11688.3"), D(0))  # 0.2 * 58500 - 0.1%
    reconcile_clean()


def test_a_stop_that_would_trigger_now_is_refused_and_changes_nothing(market):
    market("60000")
    owner = funded_user(BTC="1")
    before = state()
    with pytest.raises(ExchangeError) as refused:
        order(owner, "SELL", "STOP_LOSS_LIMIT", "0.5", "60500", stop="60500")
    assert refused.value.code == -2010
    assert refused.value.msg == "Order would trigger immediately."
    assert state() == before


def test_take_profit_sell_market_triggers_and_releases_what_it_did_not_sell(market):
    market("60000")
    owner = funded_user(BTC="1")
    placed = order(owner, "SELL", "TAKE_PROFIT", "0.5", stop="61000")
    bidder = funded_user(USDT="100000")
    order(bidder, "BUY", "LIMIT", "0.1", "60900")
    market("61000")  # fires; the market sell takes the one bid, the rest expires
    stop = row(placed)
    assert stop.status == "EXPIRED" and stop.executed_qty == D("0.1")
    assert bal(owner, "BTC") == (D("0.9"), D(0))
    reconcile_clean()


def test_a_buy_stop_that_would_execute_at_market_is_refused(market):
    owner = funded_user(USDT="100000")
    with pytest.raises(ExchangeError) as refused:
        order(owner, "BUY", "STOP_LOSS", "0.5", stop="61000")
    assert refused.value.msg == "Stop loss orders are not supported for this symbol."


def test_trailing_stop_tracks_the_high_then_fires_on_the_fall(market):
    market("60000")
    owner = funded_user(BTC="1")
    # 1% trailing, no stop price: tracks from the last price at once.
    placed = order(owner, "SELL", "STOP_LOSS_LIMIT", "0.1", "50000", delta=100)
    assert row(placed).trail_extreme == D(60000)
    market("61000")
    assert row(placed).trail_extreme == D(61000)
    assert row(placed).trailing_time is not None
    market("60400")  # 61000 * 0.99 = 60390: not yet
    assert row(placed).status == "NEW" and row(placed).working_time is None
    bidder = funded_user(USDT="100000")
    order(bidder, "BUY", "LIMIT", "0.1", "60000")
    market("60390")
    stop = row(placed)
    assert stop.status == "FILLED" and stop.working_time is not None
    assert bal(owner, "BTC") == (D("0.9"), D(0))
    reconcile_clean()


def test_stop_with_price_and_delta_starts_tracking_only_at_its_stop_price(market):
    market("60000")
    owner = funded_user(BTC="1")
    placed = order(
        owner, "SELL", "TAKE_PROFIT_LIMIT", "0.1", "60000", "GTC", "62000", 100
    )
    market("61500")
    assert row(placed).trail_extreme is None  # not armed yet
    market("62000")
    assert row(placed).trail_extreme == D(62000)
    market("63000")
    bidder = funded_user(USDT="100000")
    order(bidder, "BUY", "LIMIT", "0.1", "62370")
    market("62370")  # 63000 * 0.99
    assert row(placed).status == "FILLED"
    reconcile_clean()


def test_cancelling_a_pending_stop_releases_its_hold(market):
    market("60000")
    owner = funded_user(USDT="100000")
    placed = order(owner, "BUY", "STOP_LOSS_LIMIT", "1", "62000", stop="61000")
    assert bal(owner, "USDT") == (D(38000), D(62000))
    cancelled = order_services.order_cancel(
        user_id=owner.id, symbol="BTCUSDT", order_id=placed.order.order_id
    )
    assert cancelled.status == "CANCELED"
    assert bal(owner, "USDT") == (D(100000), D(0))
    assert not registry.slot("BTCUSDT").book.is_pending(placed.order.order_id)
    market("61000")  # nothing fires
    assert row(placed).status == "CANCELED"
    reconcile_clean()


def test_after_a_restart_the_stop_is_rebuilt_from_its_row_and_still_fires(market):
    market("60000")
    owner = funded_user(USDT="100000")
    placed = order(owner, "BUY", "STOP_LOSS_LIMIT", "0.1", "61500", stop="61000")
    trailing = order(owner, "BUY", "TAKE_PROFIT_LIMIT", "0.1", "61500", delta=100)
    market("59000")  # the trailing BUY now tracks the low, 59000
    registry.clear()  # a restart: this process forgets every book
    seller = funded_user(BTC="1")
    order(seller, "SELL", "LIMIT", "0.2", "61200")
    market("61000")
    stop = row(placed)
    assert stop.status == "FILLED" and stop.cummulative_quote_qty == D("6120")
    # 59000 * 1.01 = 59590 <= 61000: the trailing stop fired too, after it.
    follower = row(trailing)
    assert follower.status == "FILLED" and follower.priority > stop.priority
    assert bal(owner, "USDT") == (D(100000) - D("12240"), D(0))
    reconcile_clean()


def test_another_process_sees_a_stop_through_the_seq_sync(market):
    market("60000")
    owner = funded_user(BTC="1")
    book = registry.slot("BTCUSDT").book
    assert book is not None
    # Placed "elsewhere": this process's book is behind by one seq.
    registry.slot("BTCUSDT").mark_stale()
    placed = order(owner, "SELL", "STOP_LOSS_LIMIT", "0.1", "58000", stop="59000")
    slot = registry.slot("BTCUSDT")
    seq = slot.seq
    slot.book.remove(placed.order.order_id)  # as if it had never heard of it
    slot.seq = seq - 1
    market("59500")  # the sync applies the stop's row first
    assert slot.book.is_pending(placed.order.order_id)
    reconcile_clean()
