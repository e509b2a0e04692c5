"""Order lists and amendments on the order path: what the legs hold, and that one
leg's fill, trigger or cancel acts on the others in the same transaction, funds
conserved throughout (reconcile after every step).

Runs on the embedded default and on PostgreSQL (DATABASE_URL set)."""

from decimal import Decimal

import pytest

from accounts.reconcile import registered_checks
from exchange.errors import ExchangeError
from matching.registry import registry
from tests.factories import funded_user
from tests.trading.conftest import bal, state
from trading.models import Order, OrderAmendment, OrderList
from trading.orders import amend as order_amend
from trading.orders import lists as order_lists
from trading.orders import services as order_services
from trading.orders.types import OrderRequest

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def reconcile_clean():
    for name, check in registered_checks():
        assert check() == [], name


def leg(side, type, qty, price=None, stop=None, delta=None, tif=None):
    if tif is None and type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
        tif = "GTC"
    return OrderRequest(
        symbol="BTCUSDT",
        side=side,
        type=type,
        quantity=D(qty),
        price=D(price) if price is not None else None,
        time_in_force=tif,
        stop_price=D(stop) if stop is not None else None,
        trailing_delta=delta,
    )


def place_list(user, kind, *legs):
    return order_lists.order_list_place(user_id=user.id, kind=kind, legs=list(legs))


def place(user, *args, **kw):
    return order_services.order_place(user_id=user.id, request=leg(*args, **kw))


def statuses(placement):
    ids = [o.order_id for o in placement.orders]
    found = dict(
        Order.objects.filter(symbol_id="BTCUSDT", order_id__in=ids).values_list(
            "order_id", "status"
        )
    )
    return [found[i] for i in ids]


def list_row(placement):
    return OrderList.objects.get(pk=placement.order_list.pk)


@pytest.fixture
def market(symbols):
    maker = funded_user(BTC="10", USDT="1000000")
    taker = funded_user(BTC="10", USDT="1000000")

    def trade(price, qty="0.01"):
        place(maker, "SELL", "LIMIT", qty, price)
        return place(taker, "BUY", "LIMIT", qty, price)

    return trade


def sell_oco(owner, qty="1"):
    return place_list(
        owner,
        "OCO",
        leg("SELL", "STOP_LOSS_LIMIT", qty, "58500", stop="59000"),
        leg("SELL", "LIMIT_MAKER", qty, "62000"),
    )


def test_a_sell_oco_holds_its_quantity_once(market):
    market("60000")
    owner = funded_user(BTC="1")
    placed = sell_oco(owner)
    assert statuses(placed) == ["NEW", "NEW"]
    assert bal(owner, "BTC") == (D(0), D(1))
    book = registry.slot("BTCUSDT").book
    assert book.is_pending(placed.orders[0].order_id)
    assert book.best_ask() == 6200000
    assert list_row(placed).list_status_type == "EXEC_STARTED"
    reconcile_clean()


def test_the_stop_leg_triggering_expires_the_limit_leg(market):
    market("60000")
    owner = funded_user(BTC="1")
    placed = sell_oco(owner)
    bidder = funded_user(USDT="100000")
    place(bidder, "BUY", "LIMIT", "1", "58600")
    market("59000")  # the stop fires, sells into the 58600 bid
    assert statuses(placed) == ["FILLED", "EXPIRED"]
    assert list_row(placed).list_status_type == "ALL_DONE"
    assert list_row(placed).list_order_status == "ALL_DONE"
    assert bal(owner, "BTC") == (D(0), D(0))
    assert bal(owner, "USDT") == (D("58541.4"), D(0))  # 58600 - 0.1%
    assert registry.slot("BTCUSDT").book.best_ask() is None
    reconcile_clean()


def test_the_limit_leg_trading_expires_the_stop_leg(market):
    market("60000")
    owner = funded_user(BTC="1")
    placed = sell_oco(owner)
    buyer = funded_user(USDT="100000")
    place(buyer, "BUY", "LIMIT", "0.4", "62000")
    assert statuses(placed) == ["EXPIRED", "PARTIALLY_FILLED"]
    assert bal(owner, "BTC") == (D(0), D("0.6"))
    book = registry.slot("BTCUSDT").book
    assert not book.is_pending(placed.orders[0].order_id)
    market("58000")  # the expired stop no longer fires
    assert statuses(placed) == ["EXPIRED", "PARTIALLY_FILLED"]
    reconcile_clean()


def test_cancelling_one_leg_cancels_the_list_and_releases_its_hold(market):
    market("60000")
    owner = funded_user(BTC="1")
    placed = sell_oco(owner)
    before_cancel = bal(owner, "BTC")
    assert before_cancel == (D(0), D(1))
    order_services.order_cancel(
        user_id=owner.id, symbol="BTCUSDT", order_id=placed.orders[1].order_id
    )
    assert statuses(placed) == ["CANCELED", "CANCELED"]
    assert list_row(placed).list_status_type == "ALL_DONE"
    assert bal(owner, "BTC") == (D(1), D(0))
    assert len(registry.slot("BTCUSDT").book) == 0
    reconcile_clean()


def test_cancel_list_by_its_id(market):
    market("60000")
    owner = funded_user(USDT="100000")
    placed = place_list(
        owner,
        "OCO",
        leg("BUY", "STOP_LOSS_LIMIT", "1", "61500", stop="61000"),
        leg("BUY", "LIMIT_MAKER", "1", "59000"),
    )
    # A BUY OCO holds the larger of its legs' quote once.
    assert bal(owner, "USDT") == (D(38500), D(61500))
    reconcile_clean()
    cancelled = order_lists.order_list_cancel(
        user_id=owner.id,
        symbol="BTCUSDT",
        order_list_id=placed.order_list.pk,
        list_client_order_id=None,
    )
    assert [o.status for o in cancelled.orders] == ["CANCELED", "CANCELED"]
    assert bal(owner, "USDT") == (D(100000), D(0))
    reconcile_clean()


def test_an_oco_breaking_the_price_relationship_is_refused_and_changes_nothing(
    market,
):
    market("60000")
    owner = funded_user(BTC="1")
    before = state()
    lists_before = OrderList.objects.count()
    with pytest.raises(ExchangeError) as refused:
        place_list(
            owner,
            "OCO",
            leg("SELL", "STOP_LOSS_LIMIT", "1", "60500", stop="61000"),
            leg("SELL", "LIMIT_MAKER", "1", "62000"),
        )
    assert refused.value.code == -2010
    assert "relationship of the prices" in refused.value.msg
    assert state() == before and OrderList.objects.count() == lists_before
    with pytest.raises(ExchangeError) as refused:
        sell_oco(owner, qty="2")
    assert refused.value.msg.startswith("Account has insufficient balance")
    assert state() == before and OrderList.objects.count() == lists_before


def test_oto_pending_leg_starts_when_the_working_order_fills(market):
    market("60000")
    owner = funded_user(USDT="100000", BTC="1")
    placed = place_list(
        owner,
        "OTO",
        leg("BUY", "LIMIT", "1", "59000"),
        leg("SELL", "LIMIT", "1", "65000"),
    )
    assert statuses(placed) == ["NEW", "PENDING_NEW"]
    assert placed.orders[1].working_time is None
    # The pending SELL holds its base from placement, the working BUY its quote.
    assert bal(owner, "USDT") == (D(41000), D(59000))
    assert bal(owner, "BTC") == (D(0), D(1))
    reconcile_clean()
    seller = funded_user(BTC="2")
    place(seller, "SELL", "LIMIT", "1", "59000")
    assert statuses(placed) == ["FILLED", "NEW"]
    pending = Order.objects.get(order_id=placed.orders[1].order_id, symbol_id="BTCUSDT")
    assert pending.working_time is not None and pending.priority is not None
    assert registry.slot("BTCUSDT").book.best_ask() == 6500000
    reconcile_clean()


def test_otoco_pair_activates_then_one_leg_expires_the_other(market):
    market("60000")
    owner = funded_user(USDT="100000", BTC="1")
    placed = place_list(
        owner,
        "OTOCO",
        leg("BUY", "LIMIT", "1", "59000"),
        leg("SELL", "LIMIT_MAKER", "1", "65000"),
        leg("SELL", "STOP_LOSS_LIMIT", "1", "54500", stop="55000"),
    )
    assert statuses(placed) == ["NEW", "PENDING_NEW", "PENDING_NEW"]
    assert bal(owner, "BTC") == (D(0), D(1))  # the pair holds once
    reconcile_clean()
    seller = funded_user(BTC="2")
    place(seller, "SELL", "LIMIT", "1", "59000")
    assert statuses(placed) == ["FILLED", "NEW", "NEW"]
    assert registry.slot("BTCUSDT").book.is_pending(placed.orders[2].order_id)
    reconcile_clean()
    buyer = funded_user(USDT="100000")
    place(buyer, "BUY", "LIMIT", "1", "65000")
    assert statuses(placed) == ["FILLED", "FILLED", "EXPIRED"]
    assert list_row(placed).list_status_type == "ALL_DONE"
    reconcile_clean()


def test_after_a_restart_an_oco_still_acts_as_one(market):
    market("60000")
    owner = funded_user(BTC="1")
    placed = sell_oco(owner)
    registry.clear()
    bidder = funded_user(USDT="100000")
    place(bidder, "BUY", "LIMIT", "1", "58600")
    market("59000")
    assert statuses(placed) == ["FILLED", "EXPIRED"]
    reconcile_clean()


def test_amend_keeps_priority_and_releases_what_it_no_longer_holds(market):
    first = funded_user(USDT="100000")
    second = funded_user(USDT="100000")
    a = place(first, "BUY", "LIMIT", "1", "59000")
    place(second, "BUY", "LIMIT", "1", "59000")
    done = order_amend.order_amend_keep_priority(
        user_id=first.id,
        symbol="BTCUSDT",
        order_id=a.order.order_id,
        orig_client_order_id=None,
        new_client_order_id="smaller",
        new_qty=D("0.4"),
    )
    assert done.order.orig_qty == D("0.4") and done.order.client_order_id == "smaller"
    assert bal(first, "USDT") == (D(100000) - D(23600), D(23600))
    row = OrderAmendment.objects.get(order_id=a.order.order_id)
    assert (row.orig_qty, row.new_qty) == (D(1), D("0.4"))
    reconcile_clean()
    # Still first in the queue: a seller of 0.4 fills it, not the second order.
    seller = funded_user(BTC="1")
    place(seller, "SELL", "LIMIT", "0.4", "59000")
    assert Order.objects.get(order_id=a.order.order_id, symbol_id="BTCUSDT").status == (
        "FILLED"
    )
    reconcile_clean()


def test_amending_an_oco_leg_amends_its_pair(market):
    market("60000")
    owner = funded_user(BTC="1")
    placed = sell_oco(owner)
    order_amend.order_amend_keep_priority(
        user_id=owner.id,
        symbol="BTCUSDT",
        order_id=placed.orders[0].order_id,
        orig_client_order_id=None,
        new_client_order_id=None,
        new_qty=D("0.5"),
    )
    legs = Order.objects.filter(order_list_id=placed.order_list.pk)
    assert {o.orig_qty for o in legs} == {D("0.5")}
    assert bal(owner, "BTC") == (D("0.5"), D("0.5"))
    assert registry.slot("BTCUSDT").book.depth(1)[1] == [(6200000, 50000)]
    reconcile_clean()


def test_amend_refusals_change_nothing(market):
    owner = funded_user(USDT="100000")
    a = place(owner, "BUY", "LIMIT", "1", "59000")
    before = state()
    for qty, msg in (
        ("1", "The requested action would change no state; rejecting"),
        ("2", "Order amend (quantity increase) is not supported."),
    ):
        with pytest.raises(ExchangeError) as refused:
            order_amend.order_amend_keep_priority(
                user_id=owner.id,
                symbol="BTCUSDT",
                order_id=a.order.order_id,
                orig_client_order_id=None,
                new_client_order_id=None,
                new_qty=D(qty),
            )
        assert (refused.value.code, refused.value.msg) == (-2038, msg)
    assert state() == before
