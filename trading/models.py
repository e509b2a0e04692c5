import functools
from decimal import Decimal

from django.db import models
from django.db.models import Q

from accounts.fields import AmountField
from accounts.models import Asset, User

OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")
# Open, or waiting in an order list for its working order (PENDING_NEW): every
# order that still holds funds.
LIVE_STATUSES = (*OPEN_STATUSES, "PENDING_NEW")
STOP_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")


class Symbol(models.Model):
    """A trading pair with its filters and fees.

    The row is also the pair lock across processes: every change to the symbol's
    book happens inside ``SELECT ... FOR UPDATE`` on it, and bumps ``book_seq``.
    """

    class Status(models.TextChoices):
        TRADING = "TRADING"
        HALT = "HALT"
        BREAK = "BREAK"

    symbol = models.CharField(max_length=20, primary_key=True)
    base = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    quote = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default="TRADING")
    tick_size = AmountField()
    min_price = AmountField(default=0)
    max_price = AmountField(default=0, help_text="0: no maximum")
    step_size = AmountField()
    min_qty = AmountField()
    max_qty = AmountField()
    market_max_qty = AmountField(default=0, help_text="0: same as max_qty")
    min_notional = AmountField(default=0)
    max_notional = AmountField(default=0, help_text="0: no maximum")
    max_num_orders = models.PositiveIntegerField(default=200)
    maker_fee = AmountField(default=Decimal("0.001"))
    taker_fee = AmountField(default=Decimal("0.001"))
    book_seq = models.BigIntegerField(default=0)
    last_order_id = models.BigIntegerField(default=0)
    last_trade_id = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["symbol"]
        permissions = [
            ("change_symbol_status", "Can halt, break and resume trading on a symbol")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(tick_size__gt=0), name="symbol_tick_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(step_size__gt=0), name="symbol_step_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(
                    maker_fee__gte=0, maker_fee__lt=1, taker_fee__gte=0, taker_fee__lt=1
                ),
                name="symbol_fees_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.symbol


@functools.cache
def _order_defaults() -> list[tuple[str, object]]:
    """(attname, default) of Order's fields, in their order. Computed once: a
    callable default would have to be called for each order instead."""
    fields = Order._meta.concrete_fields
    if any(f.has_default() and callable(f.default) for f in fields):
        raise TypeError("Order.build needs every field's default to be a value")
    return [(f.attname, f.get_default()) for f in fields]


class Order(models.Model):
    """An order, with every field Binance reports. ``order_id`` is per symbol and is
    also the arrival sequence that decides time priority. ``seq`` is the symbol's
    ``book_seq`` at the order's last change, so a process can catch its book up."""

    class Side(models.TextChoices):
        BUY = "BUY"
        SELL = "SELL"

    class Type(models.TextChoices):
        LIMIT = "LIMIT"
        MARKET = "MARKET"
        LIMIT_MAKER = "LIMIT_MAKER"
        STOP_LOSS = "STOP_LOSS"
        STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
        TAKE_PROFIT = "TAKE_PROFIT"
        TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"

    class Status(models.TextChoices):
        PENDING_NEW = "PENDING_NEW"
        NEW = "NEW"
        PARTIALLY_FILLED = "PARTIALLY_FILLED"
        FILLED = "FILLED"
        CANCELED = "CANCELED"
        EXPIRED = "EXPIRED"
        EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"

    symbol = models.ForeignKey(
        Symbol, on_delete=models.PROTECT, db_index=False, related_name="orders"
    )
    order_id = models.BigIntegerField()
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, db_index=False, related_name="orders"
    )
    client_order_id = models.CharField(max_length=36)
    side = models.CharField(max_length=4, choices=Side.choices)
    type = models.CharField(max_length=17, choices=Type.choices)
    time_in_force = models.CharField(max_length=3, blank=True)
    price = AmountField(default=0)
    orig_qty = AmountField(default=0)
    orig_quote_order_qty = AmountField(default=0)
    executed_qty = AmountField(default=0)
    cummulative_quote_qty = AmountField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices)
    self_trade_prevention_mode = models.CharField(max_length=12, default="NONE")
    time = models.BigIntegerField(help_text="ms since the epoch")
    update_time = models.BigIntegerField(help_text="ms since the epoch")
    seq = models.BigIntegerField()
    # Stop orders: the trigger (stopPrice and/or trailingDelta in BIPS), and the
    # trailing state: when tracking began and the extreme trade price since.
    stop_price = AmountField(default=0, db_default=0)
    trailing_delta = models.BigIntegerField(default=0, db_default=0)
    trailing_time = models.BigIntegerField(null=True, blank=True)
    trail_extreme = AmountField(null=True, blank=True)
    # When the order started working on the book (a stop: when it triggered; a
    # pending order-list leg: when its working order filled); None while it waits.
    working_time = models.BigIntegerField(null=True, blank=True)
    # The queue place of an order that started working after it was placed (the
    # engine's priority); None: its order_id.
    priority = models.BigIntegerField(null=True, blank=True)
    order_list_id = models.BigIntegerField(default=-1, db_default=-1)

    class Meta:
        permissions = [("cancel_order", "Can cancel open orders in the back office")]
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "order_id"], name="order_symbol_id"
            ),
            # A client order id may not be reused while an order with it is open.
            models.UniqueConstraint(
                fields=["user", "client_order_id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="order_open_client_id",
            ),
            models.CheckConstraint(
                condition=Q(executed_qty__gte=0), name="order_executed_gte_0"
            ),
        ]
        indexes = [
            # Book sync: the rows that changed after a process's seq.
            models.Index(fields=["symbol", "seq"], name="order_symbol_seq"),
            # Book rebuild: every live order of a symbol (open, or a list leg
            # waiting for its working order), in arrival order.
            models.Index(
                fields=["symbol", "order_id"],
                condition=Q(status__in=LIVE_STATUSES),
                name="order_live_by_symbol",
            ),
            # openOrders, cancel-all, MAX_NUM_ORDERS.
            models.Index(
                fields=["user", "symbol"],
                condition=Q(status__in=OPEN_STATUSES),
                name="order_open_by_user",
            ),
            # allOrders (orderId from, or a time window) and origClientOrderId.
            models.Index(
                fields=["user", "symbol", "order_id"], name="order_user_symbol_id"
            ),
            models.Index(
                fields=["user", "symbol", "time"], name="order_user_symbol_time"
            ),
            models.Index(
                fields=["user", "client_order_id"], name="order_user_client_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id}#{self.order_id}"

    @classmethod
    def build(cls, **values) -> "Order":
        """A new order from its fields' values (by attname: ``symbol_id``,
        ``user_id``), the others at their defaults. Django makes a model from
        positional values about twice as fast as from keywords, which look up
        every field's default (22 against 8 µs here), and the order path makes
        one per placement."""
        args = [values.pop(name, default) for name, default in _order_defaults()]
        if values:
            raise TypeError(f"Order has no fields {sorted(values)}")
        return cls(*args)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_pending_stop(self) -> bool:
        """Waiting in the trigger book: a stop order that has not triggered."""
        return (
            self.type in STOP_TYPES
            and self.status in OPEN_STATUSES
            and self.working_time is None
        )


class OrderList(models.Model):
    """An OCO, OTO or OTOCO list. ``id`` is Binance's ``orderListId`` (unique on
    the exchange, as GET orderList takes no symbol); its legs are the orders
    whose ``order_list_id`` is it, in leg order by ``order_id``."""

    class Kind(models.TextChoices):
        OCO = "OCO"
        OTO = "OTO"
        OTOCO = "OTOCO"

    symbol = models.ForeignKey(Symbol, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    list_client_order_id = models.CharField(max_length=36)
    list_status_type = models.CharField(max_length=12, default="EXEC_STARTED")
    list_order_status = models.CharField(max_length=9, default="EXECUTING")
    transaction_time = models.BigIntegerField(help_text="ms since the epoch")
    update_time = models.BigIntegerField(help_text="ms since the epoch")

    class Meta:
        indexes = [
            models.Index(fields=["user", "id"], name="orderlist_user_id"),
            models.Index(
                fields=["user", "transaction_time"], name="orderlist_user_time"
            ),
            models.Index(
                fields=["user", "list_client_order_id"], name="orderlist_user_client"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id} list {self.pk}"

    @property
    def contingency_type(self) -> str:
        """Binance reports an OTOCO as OTO."""
        return "OCO" if self.kind == "OCO" else "OTO"


class OrderAmendment(models.Model):
    """One keep-priority amendment of an order; ``id`` is its ``executionId``."""

    symbol = models.ForeignKey(Symbol, on_delete=models.PROTECT, related_name="+")
    order_id = models.BigIntegerField()
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    orig_client_order_id = models.CharField(max_length=36)
    new_client_order_id = models.CharField(max_length=36)
    orig_qty = AmountField()
    new_qty = AmountField()
    time = models.BigIntegerField(help_text="ms since the epoch")

    class Meta:
        indexes = [
            models.Index(
                fields=["symbol", "order_id", "id"], name="amendment_symbol_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id}#{self.order_id} amendment {self.pk}"


class Trade(models.Model):
    """One fill between a maker and a taker. ``trade_id`` is per symbol.

    The buyer's fee is taken in the base asset, the seller's in the quote asset, and
    both go to the fee account.
    """

    symbol = models.ForeignKey(
        Symbol, on_delete=models.PROTECT, db_index=False, related_name="trades"
    )
    trade_id = models.BigIntegerField()
    price = AmountField()
    qty = AmountField()
    quote_qty = AmountField()
    time = models.BigIntegerField(help_text="ms since the epoch")
    buyer = models.ForeignKey(
        User, on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    seller = models.ForeignKey(
        User, on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    buyer_order_id = models.BigIntegerField()
    seller_order_id = models.BigIntegerField()
    is_buyer_maker = models.BooleanField()
    buyer_fee = AmountField(default=0)
    seller_fee = AmountField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "trade_id"], name="trade_symbol_id"
            ),
        ]
        indexes = [
            models.Index(fields=["symbol", "time"], name="trade_symbol_time"),
            models.Index(fields=["buyer", "symbol", "trade_id"], name="trade_buyer"),
            models.Index(fields=["seller", "symbol", "trade_id"], name="trade_seller"),
            models.Index(fields=["symbol", "buyer_order_id"], name="trade_buyer_order"),
            models.Index(
                fields=["symbol", "seller_order_id"], name="trade_seller_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id} trade {self.trade_id}: {self.qty} @ {self.price}"


class Kline(models.Model):
    """Candlesticks kept up to date as trades happen, at a few base intervals; the
    other Binance intervals are combined from these on read."""

    symbol = models.ForeignKey(
        Symbol, on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    interval = models.CharField(max_length=3)
    open_time = models.BigIntegerField(help_text="ms since the epoch")
    open = AmountField()
    high = AmountField()
    low = AmountField()
    close = AmountField()
    volume = AmountField(default=0)
    quote_volume = AmountField(default=0)
    trades = models.PositiveIntegerField(default=0)
    taker_buy_base = AmountField(default=0)
    taker_buy_quote = AmountField(default=0)
    first_trade_id = models.BigIntegerField()
    last_trade_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "interval", "open_time"],
                name="kline_symbol_interval_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.interval} {self.open_time}"
