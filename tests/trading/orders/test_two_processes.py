"""Two OS processes trading the same symbol at once, on PostgreSQL."""

import multiprocessing
from decimal import Decimal

import pytest
from django.db import connection

from accounts.reconcile import registered_checks
from tests.factories import funded_user
from tests.trading.orders.child_trader import ORDERS_PER_PROCESS, trade_in_child
from trading.models import OPEN_STATUSES, Order, Trade

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_two_processes_cross_orders_without_double_fills(symbols):
    users = [funded_user(BTC="5", USDT="500000") for _ in range(6)]
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    all_done = context.Event()
    children = [
        context.Process(
            target=trade_in_child,
            args=(url, [u.id for u in users], seed, queue, all_done),
        )
        for seed in (1, 2)
    ]
    for child in children:
        child.start()
    traded = [queue.get(timeout=240) for _ in children]
    all_done.set()
    books = [queue.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    accepted = sum(r[1] for r in traded)
    assert accepted > ORDERS_PER_PROCESS  # most orders went through
    assert Trade.objects.count() > 50  # and they really crossed
    open_orders = sorted(
        (
            o.order_id,
            o.user_id,
            o.side,
            int(o.price / Decimal("0.01")),
            int((o.orig_qty - o.executed_qty) / Decimal("0.00001")),
        )
        for o in Order.objects.filter(symbol_id="BTCUSDT", status__in=OPEN_STATUSES)
    )
    for _, resting in books:
        assert resting == open_orders
    for name, check in registered_checks():
        assert check() == [], name
    # Every trade's quantity is accounted for on both of its orders.
    for order in Order.objects.filter(symbol_id="BTCUSDT"):
        side_field = "buyer_order_id" if order.side == "BUY" else "seller_order_id"
        traded = sum(
            t.qty
            for t in Trade.objects.filter(
                symbol_id="BTCUSDT", **{side_field: order.order_id}
            )
        )
        assert traded == order.executed_qty
