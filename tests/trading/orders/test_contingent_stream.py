"""A seeded random stream of orders, stops, trailing stops, order lists, cancels
and amendments through the order path. After every command: balances reconcile
with what live orders hold (reconcile's checks), a refusal changed nothing, and
the process's book (resting orders, trigger book, lists) equals one rebuilt from
the database, as a restarted process would build it."""

import random
from decimal import Decimal

import pytest

from accounts.reconcile import registered_checks
from exchange.errors import ExchangeError
from matching.registry import BookSlot, registry
from tests.factories import funded_user
from tests.trading.conftest import state
from trading.models import LIVE_STATUSES, Order, OrderList, Symbol
from trading.orders import amend as order_amend
from trading.orders import lists as order_lists
from trading.orders import services as order_services
from trading.orders.books import book_sync
from trading.orders.types import OrderRequest
from trading.symbols.selectors import symbol_spec

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def leg(rng, side, type, qty, price=None, stop=None, delta=None):
    tif = "GTC" if type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT") else None
    return OrderRequest(
        symbol="BTCUSDT",
        side=side,
        type=type,
        quantity=D(qty),
        price=D(price) if price is not None else None,
        time_in_force=tif,
        stop_price=D(stop) if stop is not None else None,
        trailing_delta=delta,
        self_trade_prevention_mode=rng.choice(["NONE", "EXPIRE_MAKER"]),
    )


def px(rng, spread=3000):
    return str(60000 + rng.randrange(-spread, spread + 1, 100))


def command(rng, users):
    user = rng.choice(users)
    kind = rng.random()
    qty = str(D(rng.randint(1, 30)) / 100)
    if kind < 0.35:
        side = rng.choice(["BUY", "SELL"])
        return "order", user, leg(rng, side, "LIMIT", qty, px(rng))
    if kind < 0.45:
        return "order", user, leg(rng, "SELL", "MARKET", qty)
    if kind < 0.6:
        side = rng.choice(["BUY", "SELL"])
        stop = px(rng)
        delta = rng.choice([None, None, 50, 200])
        if side == "SELL":
            kind_ = rng.choice(["STOP_LOSS_LIMIT", "TAKE_PROFIT", "STOP_LOSS"])
        else:
            kind_ = rng.choice(["STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"])
        price = px(rng) if kind_.endswith("_LIMIT") else None
        if delta is not None and rng.random() < 0.5:
            stop = None
        return "order", user, leg(rng, side, kind_, qty, price, stop, delta)
    if kind < 0.72:
        side = rng.choice(["BUY", "SELL"])
        high, low = sorted([px(rng, 4000), px(rng, 4000)], key=int, reverse=True)
        if side == "SELL":
            legs = [
                leg(rng, side, "STOP_LOSS_LIMIT", qty, str(int(low) - 200), stop=low),
                leg(rng, side, "LIMIT_MAKER", qty, high),
            ]
        else:
            legs = [
                leg(rng, side, "STOP_LOSS_LIMIT", qty, str(int(high) + 200), stop=high),
                leg(rng, side, "LIMIT_MAKER", qty, low),
            ]
        return "list", user, ("OCO", legs)
    if kind < 0.8:
        side = rng.choice(["BUY", "SELL"])
        other = "SELL" if side == "BUY" else "BUY"
        working = leg(rng, side, "LIMIT", qty, px(rng))
        if rng.random() < 0.5:
            return (
                "list",
                user,
                ("OTO", [working, leg(rng, other, "LIMIT", qty, px(rng))]),
            )
        high = str(int(px(rng, 1000)) + 5000)
        low = str(int(px(rng, 1000)) - 5000)
        if other == "SELL":
            pair = [
                leg(rng, other, "LIMIT_MAKER", qty, high),
                leg(rng, other, "STOP_LOSS_LIMIT", qty, str(int(low) - 100), low),
            ]
        else:
            pair = [
                leg(rng, other, "STOP_LOSS_LIMIT", qty, str(int(high) + 100), high),
                leg(rng, other, "LIMIT_MAKER", qty, low),
            ]
        return "list", user, ("OTOCO", [working, *pair])
    live = list(
        Order.objects.filter(user_id=user.id, status__in=LIVE_STATUSES).values_list(
            "order_id", "orig_qty", "executed_qty"
        )
    )
    if not live:
        return "order", user, leg(rng, "BUY", "LIMIT", qty, px(rng))
    order_id, orig, executed = rng.choice(live)
    if kind < 0.92:
        return "cancel", user, order_id
    new_qty = (executed + (orig - executed) * D(rng.randint(1, 9)) / 10).quantize(
        D("0.00001")
    )
    return "amend", user, (order_id, new_qty)


def run(action, user, arg):
    if action == "order":
        order_services.order_place(user_id=user.id, request=arg)
    elif action == "list":
        kind, legs = arg
        order_lists.order_list_place(user_id=user.id, kind=kind, legs=legs)
    elif action == "cancel":
        order_services.order_cancel(user_id=user.id, symbol="BTCUSDT", order_id=arg)
    else:
        order_amend.order_amend_keep_priority(
            user_id=user.id,
            symbol="BTCUSDT",
            order_id=arg[0],
            orig_client_order_id=None,
            new_client_order_id=None,
            new_qty=arg[1],
        )


def book_view(book):
    return (
        list(book.orders()),
        book.pending(),
        book.lists(),
        book.priorities(),
    )


def rebuilt_view():
    row = Symbol.objects.get(symbol="BTCUSDT")
    slot = BookSlot("BTCUSDT")
    return book_view(book_sync(slot, row, symbol_spec(row)))


@pytest.mark.parametrize("seed", [7, 2024])
def test_random_stream_keeps_funds_and_books_exact(symbols, seed):
    rng = random.Random(seed)
    users = [funded_user(BTC="5", USDT="400000") for _ in range(3)]
    seller = funded_user(BTC="1")
    buyer = funded_user(USDT="100000")
    order_services.order_place(
        user_id=seller.id, request=leg(rng, "SELL", "LIMIT", "0.01", "60000")
    )
    order_services.order_place(
        user_id=buyer.id, request=leg(rng, "BUY", "LIMIT", "0.01", "60000")
    )
    outcomes = {"ok": 0, "refused": 0}
    for step in range(140):
        action, user, arg = command(rng, users)
        before = state()
        lists_before = OrderList.objects.count()
        try:
            run(action, user, arg)
            outcomes["ok"] += 1
        except ExchangeError:
            outcomes["refused"] += 1
            assert state() == before, (step, action)
            assert OrderList.objects.count() == lists_before
        for name, check in registered_checks():
            assert check() == [], (step, action, name)
        book = registry.slot("BTCUSDT").book
        if book is not None and not registry.slot("BTCUSDT").stale:
            assert book_view(book) == rebuilt_view(), (step, action)
    assert outcomes["ok"] > 60
    triggered = Order.objects.filter(
        type__in=("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"),
        working_time__isnull=False,
    ).count()
    assert triggered > 0
