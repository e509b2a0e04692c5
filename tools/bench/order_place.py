"""Orders per second through ``order_place`` on the configured database."""

from __future__ import annotations

import random
import statistics
import time
from decimal import Decimal

from django.db import connection

from accounts import services as funds
from accounts.models import Asset, User
from matching.registry import registry
from trading.models import Symbol
from trading.orders import services as order_services
from trading.orders import types as order_types
from trading.symbols import services as symbol_services

BENCH_SYMBOL = "BENCHUSDT"


def _bench_setup() -> list[int]:
    """A bench symbol and two well-funded traders (created once, reused)."""
    Asset.objects.get_or_create(code="BENCH", defaults={"decimals": 8})
    Asset.objects.get_or_create(code="USDT", defaults={"decimals": 8})
    if not Symbol.objects.filter(symbol=BENCH_SYMBOL).exists():
        symbol_services.symbol_create(
            symbol=BENCH_SYMBOL,
            base="BENCH",
            quote="USDT",
            tick_size=Decimal("0.01"),
            step_size=Decimal("0.00001"),
            min_qty=Decimal("0.00001"),
            max_qty=Decimal("9000"),
            max_num_orders=1_000_000,
        )
    ids = []
    for name in ("bench-maker", "bench-taker"):
        user = User.objects.filter(username=name).first()
        if user is None:
            user = funds.user_create(username=name, password=None)
        funds.balance_deposit(
            user_id=user.id, asset="BENCH", amount=Decimal(100000), reference="bench"
        )
        funds.balance_deposit(
            user_id=user.id, asset="USDT", amount=Decimal(10**10), reference="bench"
        )
        ids.append(user.id)
    return ids


def order_place_bench(*, orders: int = 3000, seed: int = 7) -> dict:
    """Place ``orders`` orders from one process, half resting and half crossing, and
    time each. Leaves the orders, trades and ledger rows in the database (they
    reconcile); cancels what still rests at the end."""
    maker, taker = _bench_setup()
    order_services.order_cancel_all(user_id=maker, symbol=BENCH_SYMBOL)
    order_services.order_cancel_all(user_id=taker, symbol=BENCH_SYMBOL)
    registry.slot(BENCH_SYMBOL).mark_stale()
    rng = random.Random(seed)
    mid = 600000  # 6000.00 in ticks of 0.01
    durations = []
    fills = 0
    started = time.perf_counter()
    for i in range(orders):
        side = "BUY" if i % 2 else "SELL"
        crossing = rng.random() < 0.5
        offset = rng.randint(0, 20) if crossing else 1 + rng.randint(0, 300)
        ticks = mid + offset if (side == "BUY") == crossing else mid - offset
        if side == "SELL" and not crossing:
            ticks = mid + offset
        if side == "BUY" and not crossing:
            ticks = mid - offset
        request = order_types.OrderRequest(
            symbol=BENCH_SYMBOL,
            side=side,
            type="LIMIT",
            time_in_force="GTC",
            quantity=Decimal(rng.randint(1, 100)) / 100000,
            price=Decimal(ticks) / 100,
            self_trade_prevention_mode="NONE",
        )
        t0 = time.perf_counter()
        placed = order_services.order_place(
            user_id=taker if crossing else maker, request=request
        )
        durations.append(time.perf_counter() - t0)
        fills += len(placed.fills)
    elapsed = time.perf_counter() - started
    order_services.order_cancel_all(user_id=maker, symbol=BENCH_SYMBOL)
    order_services.order_cancel_all(user_id=taker, symbol=BENCH_SYMBOL)
    durations.sort()
    return {
        "database": connection.vendor,
        "orders": orders,
        "orders_per_s": round(orders / elapsed),
        "p50_ms": round(statistics.median(durations) * 1000, 3),
        "p99_ms": round(durations[int(len(durations) * 0.99)] * 1000, 3),
        "fills": fills,
    }


def format_order_place_report(figures: dict) -> str:
    f = figures
    return (
        f"order_place on {f['database']}: {f['orders']:,} orders from one process, "
        f"{f['orders_per_s']:,} orders/s, p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, "
        f"{f['fills']:,} fills"
    )
