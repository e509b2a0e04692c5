from decimal import Decimal

import pytest

from accounts.models import Balance, LedgerEntry
from matching.registry import registry
from tests.factories import standard_symbols
from trading.models import Order, Symbol, Trade
from trading.orders import services as order_services
from trading.orders import types as order_types


@pytest.fixture(autouse=True)
def _fresh_books():
    registry.clear()
    yield
    registry.clear()


@pytest.fixture
def symbols(db):
    return standard_symbols()


def place(
    user, side, qty=None, price=None, type="LIMIT", tif="GTC", symbol="BTCUSDT", **kw
):
    request = order_types.OrderRequest(
        symbol=symbol,
        side=side,
        type=type,
        quantity=Decimal(qty) if qty is not None else None,
        price=Decimal(price) if price is not None else None,
        time_in_force=tif if type == "LIMIT" else None,
        **kw,
    )
    return order_services.order_place(user_id=user.id, request=request)


def state() -> dict:
    """Everything an order may change, for before/after comparisons."""
    return {
        "balances": sorted(
            Balance.objects.values_list("user_id", "asset_id", "free", "locked")
        ),
        "orders": sorted(
            Order.objects.values_list("symbol_id", "order_id", "status", "executed_qty")
        ),
        "trades": Trade.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "symbols": sorted(
            Symbol.objects.values_list("symbol", "book_seq", "last_order_id")
        ),
    }


def bal(user, asset):
    row = Balance.objects.filter(user=user, asset_id=asset).first()
    return (row.free, row.locked) if row else (Decimal(0), Decimal(0))
