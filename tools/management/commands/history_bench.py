import random
import statistics
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services as funds
from accounts.models import Asset, User
from trading.marketdata.klines import BASE_INTERVALS, bucket_start
from trading.models import Kline, Order, Symbol, Trade
from trading.symbols import services as symbol_services

SYMBOL = "HISTUSDT"
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
TRADERS = 100


class Command(BaseCommand):
    help = (
        "Load a deep history (by default 1,000,000 trades and 200,000 orders on a "
        "HISTUSDT symbol, with COPY on PostgreSQL) and print the server time of each "
        "history endpoint: allOrders, myTrades, historicalTrades, aggTrades, klines. "
        "A benchmark: it writes to the configured database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--trades", type=int, default=1_000_000)
        parser.add_argument("--orders", type=int, default=200_000)
        parser.add_argument("--repeat", type=int, default=30)
        parser.add_argument("--reuse", action="store_true", help="keep loaded data")

    def handle(self, *args, trades, orders, repeat, reuse, **options):
        if trades < 1000 or orders < 1000:
            raise CommandError("--trades and --orders must be at least 1000")
        users = self._setup()
        if not (reuse and Trade.objects.filter(symbol_id=SYMBOL).exists()):
            started = time.perf_counter()
            self._load(users, trades, orders)
            self.stdout.write(
                f"loaded {trades:,} trades and {orders:,} orders in "
                f"{time.perf_counter() - started:.1f} s ({connection.vendor})"
            )
        me = users[0]
        token = str(RefreshToken.for_user(User.objects.get(id=me)).access_token)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        mid_time = START_MS + trades * 1000 // 2
        end_time = START_MS + trades * 1000
        probes = {
            "allOrders (latest 500)": f"/api/v3/allOrders?symbol={SYMBOL}",
            "allOrders (orderId from)": f"/api/v3/allOrders?symbol={SYMBOL}"
            f"&orderId={orders // 2}&limit=1000",
            "allOrders (time window)": f"/api/v3/allOrders?symbol={SYMBOL}"
            f"&startTime={mid_time}&endTime={mid_time + 3_600_000}",
            "myTrades (latest 500)": f"/api/v3/myTrades?symbol={SYMBOL}",
            "myTrades (fromId)": f"/api/v3/myTrades?symbol={SYMBOL}"
            f"&fromId={trades // 2}&limit=1000",
            "myTrades (time window)": f"/api/v3/myTrades?symbol={SYMBOL}"
            f"&startTime={mid_time}&endTime={mid_time + 3_600_000}",
            "historicalTrades (fromId)": f"/api/v3/historicalTrades?symbol={SYMBOL}"
            f"&fromId={trades // 3}&limit=1000",
            "aggTrades (time window)": f"/api/v3/aggTrades?symbol={SYMBOL}"
            f"&startTime={mid_time}&endTime={mid_time + 600_000}",
            "klines 1m (latest 500)": f"/api/v3/klines?symbol={SYMBOL}&interval=1m"
            f"&endTime={end_time}",
            "klines 1h (range)": f"/api/v3/klines?symbol={SYMBOL}&interval=1h"
            f"&startTime={START_MS}&limit=500",
            "klines 1d": f"/api/v3/klines?symbol={SYMBOL}&interval=1d&limit=100"
            f"&endTime={end_time}",
            "klines 1w (combined from 1d)": f"/api/v3/klines?symbol={SYMBOL}"
            f"&interval=1w&endTime={end_time}",
        }
        self.stdout.write(f"{'endpoint':32} {'median ms':>10} {'p95 ms':>8} rows")
        for name, url in probes.items():
            times = []
            rows = 0
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise CommandError(
                        f"{name}: {response.status_code} {response.content}"
                    )
                rows = len(response.json())
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            self.stdout.write(
                f"{name:32} {statistics.median(times):10.2f} {p95:8.2f} {rows}"
            )

    def _setup(self) -> list[int]:
        Asset.objects.get_or_create(code="HIST", defaults={"decimals": 8})
        Asset.objects.get_or_create(code="USDT", defaults={"decimals": 8})
        if not Symbol.objects.filter(symbol=SYMBOL).exists():
            symbol_services.symbol_create(
                symbol=SYMBOL,
                base="HIST",
                quote="USDT",
                tick_size=Decimal("0.01"),
                step_size=Decimal("0.001"),
                min_qty=Decimal("0.001"),
                max_qty=Decimal("100000"),
            )
        ids = []
        for n in range(TRADERS):
            user = User.objects.filter(username=f"history-{n}").first()
            if user is None:
                user = funds.user_create(username=f"history-{n}", password=None)
            ids.append(user.id)
        return ids

    def _load(self, users: list[int], trades: int, orders: int) -> None:
        """Closed orders and their trades, one trade a second; the first trader
        takes part in about a fifth of them. (History only: balances untouched.)"""
        rng = random.Random(1)
        with transaction.atomic():
            Kline.objects.filter(symbol_id=SYMBOL).delete()
            Trade.objects.filter(symbol_id=SYMBOL).delete()
            Order.objects.filter(symbol_id=SYMBOL).delete()
            order_rows = []
            for order_id in range(1, orders + 1):
                user = users[0] if rng.random() < 0.2 else rng.choice(users)
                t = START_MS + (order_id * trades // orders) * 1000
                order_rows.append(
                    (
                        SYMBOL,
                        order_id,
                        user,
                        f"h{order_id}",
                        rng.choice(["BUY", "SELL"]),
                        "LIMIT",
                        "GTC",
                        "100.00",
                        "1.000",
                        "0",
                        "1.000",
                        "100.00000",
                        "FILLED",
                        "NONE",
                        t,
                        t,
                        0,
                    )
                )
            self._copy(
                "trading_order",
                [
                    "symbol_id",
                    "order_id",
                    "user_id",
                    "client_order_id",
                    "side",
                    "type",
                    "time_in_force",
                    "price",
                    "orig_qty",
                    "orig_quote_order_qty",
                    "executed_qty",
                    "cummulative_quote_qty",
                    "status",
                    "self_trade_prevention_mode",
                    "time",
                    "update_time",
                    "seq",
                ],
                order_rows,
            )
            trade_rows = []
            candles: dict[tuple[str, int], list] = {}
            for trade_id in range(1, trades + 1):
                t = START_MS + trade_id * 1000
                price = Decimal(10000 + rng.randint(-500, 500)) / 100
                qty = Decimal(rng.randint(1, 1000)) / 1000
                buyer = users[0] if rng.random() < 0.1 else rng.choice(users)
                seller = users[0] if rng.random() < 0.1 else rng.choice(users)
                buyer_order = rng.randint(1, orders)
                seller_order = rng.randint(1, orders)
                trade_rows.append(
                    (
                        SYMBOL,
                        trade_id,
                        price,
                        qty,
                        price * qty,
                        t,
                        buyer,
                        seller,
                        buyer_order,
                        seller_order,
                        rng.random() < 0.5,
                        0,
                        0,
                    )
                )
                for interval in BASE_INTERVALS:
                    key = (interval, bucket_start(interval, t))
                    c = candles.get(key)
                    if c is None:
                        candles[key] = [
                            price,
                            price,
                            price,
                            price,
                            qty,
                            price * qty,
                            1,
                            trade_id,
                            trade_id,
                        ]
                    else:
                        c[1] = max(c[1], price)
                        c[2] = min(c[2], price)
                        c[3] = price
                        c[4] += qty
                        c[5] += price * qty
                        c[6] += 1
                        c[8] = trade_id
            self._copy(
                "trading_trade",
                [
                    "symbol_id",
                    "trade_id",
                    "price",
                    "qty",
                    "quote_qty",
                    "time",
                    "buyer_id",
                    "seller_id",
                    "buyer_order_id",
                    "seller_order_id",
                    "is_buyer_maker",
                    "buyer_fee",
                    "seller_fee",
                ],
                trade_rows,
            )
            self._copy(
                "trading_kline",
                [
                    "symbol_id",
                    "interval",
                    "open_time",
                    "open",
                    "high",
                    "low",
                    "close",
                    "volume",
                    "quote_volume",
                    "trades",
                    "taker_buy_base",
                    "taker_buy_quote",
                    "first_trade_id",
                    "last_trade_id",
                ],
                [
                    (
                        SYMBOL,
                        interval,
                        start,
                        c[0],
                        c[1],
                        c[2],
                        c[3],
                        c[4],
                        c[5],
                        c[6],
                        0,
                        0,
                        c[7],
                        c[8],
                    )
                    for (interval, start), c in candles.items()
                ],
            )
            Symbol.objects.filter(symbol=SYMBOL).update(
                last_order_id=orders, last_trade_id=trades
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE trading_order, trading_trade, trading_kline")

    def _copy(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                raw = cursor.cursor
                with raw.copy(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608
                [
                    tuple(str(v) if isinstance(v, Decimal) else v for v in r)
                    for r in rows
                ],
            )
