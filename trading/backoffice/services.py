"""Back-office operations: what admins and operators do to run the exchange day to
day, on top of the trading and accounts services.

Every change goes through the service that owns it: a symbol's status through
``symbol_set_status``, cancels through ``order_cancel`` / ``order_cancel_all``, a
user's keys through ``accounts.services.user_disable``. Nothing here edits an order,
a balance or a symbol's status directly. Symbol filters and fees are edited here, under
the pair lock, as ``order_place`` reads them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import OutputWrapper
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min

from accounts import services as funds
from accounts.models import ReconciliationRun, User
from accounts.reconcile import sums_by
from exchange import errors
from exchange.errors import ExchangeError, bad_symbol
from trading.models import OPEN_STATUSES, Order, Symbol, Trade
from trading.orders.services import order_cancel, order_cancel_all
from trading.symbols.locks import pair_locked, symbol_lock
from trading.symbols.services import symbol_create, symbol_set_status
from trading.symbols.specs import symbol_filters_problems

ZERO = Decimal(0)
DAY_MS = 24 * 3600 * 1000

# --- Symbols ----------------------------------------------------------------------

SYMBOL_NAME = re.compile(r"^[A-Z0-9]{2,20}$")

# What an operator may change on an existing symbol. Never the pair itself (base,
# quote) nor the counters the order path owns (book_seq, last_order_id,
# last_trade_id); the status only through ``symbol_set_status``.
SYMBOL_EDITABLE_FIELDS = (
    "tick_size",
    "min_price",
    "max_price",
    "step_size",
    "min_qty",
    "max_qty",
    "market_max_qty",
    "min_notional",
    "max_notional",
    "max_num_orders",
    "maker_fee",
    "taker_fee",
)
# The sizes the in-memory books count in (ticks and lots).
SYMBOL_GRID_FIELDS = ("tick_size", "step_size")


def _refuse(problems: list[str]) -> None:
    if problems:
        raise ExchangeError(errors.INVALID_PARAMETER, "; ".join(problems))


def symbol_name_problems(*, symbol: str, base: str, quote: str) -> list[str]:
    """What is wrong with a new symbol's name: capitals and digits, base + quote."""
    if not SYMBOL_NAME.match(symbol):
        return ["a symbol is 2 to 20 capital letters or digits"]
    if symbol != base + quote:
        return [f"the symbol must be its base then its quote: {base + quote}"]
    return []


def symbol_add(
    *,
    symbol: str,
    base: str,
    quote: str,
    tick_size: Decimal,
    step_size: Decimal,
    min_qty: Decimal,
    max_qty: Decimal,
    min_price: Decimal = ZERO,
    max_price: Decimal = ZERO,
    market_max_qty: Decimal = ZERO,
    min_notional: Decimal = ZERO,
    max_notional: Decimal = ZERO,
    max_num_orders: int = 200,
    maker_fee: Decimal = Decimal("0.001"),
    taker_fee: Decimal = Decimal("0.001"),
    status: str = Symbol.Status.TRADING,
) -> Symbol:
    """List a new pair through ``symbol_create``, in the given status (HALT lets an
    operator list it before it opens). Refused if the name is taken or malformed, an
    asset is unknown, or the filters are incoherent."""
    if status not in Symbol.Status.values:
        raise ExchangeError(errors.INVALID_PARAMETER, f"Unknown status {status!r}.")
    problems = symbol_name_problems(symbol=symbol, base=base, quote=quote)
    filters = dict(
        tick_size=tick_size,
        step_size=step_size,
        min_qty=min_qty,
        max_qty=max_qty,
        min_price=min_price,
        max_price=max_price,
        min_notional=min_notional,
        max_num_orders=max_num_orders,
        maker_fee=maker_fee,
        taker_fee=taker_fee,
        market_max_qty=market_max_qty,
        max_notional=max_notional,
    )
    problems += symbol_filters_problems(base=base, quote=quote, **filters)
    _refuse(problems)
    if Symbol.objects.filter(symbol=symbol).exists():
        raise symbol_exists(symbol)
    try:
        with transaction.atomic():
            row = symbol_create(symbol=symbol, base=base, quote=quote, **filters)
            if status != Symbol.Status.TRADING:
                row = symbol_set_status(symbol=symbol, status=status)
    except IntegrityError:
        raise symbol_exists(symbol) from None
    return row


def symbol_exists(symbol: str) -> ExchangeError:
    return ExchangeError(errors.INVALID_PARAMETER, f"Symbol {symbol} already exists.")


@dataclass(frozen=True, slots=True)
class SymbolUpdate:
    """The symbol as saved, and each field that changed: name -> (before, after)."""

    symbol: Symbol
    changed: dict[str, tuple[Any, Any]]


def symbol_update(
    *,
    symbol: str,
    tick_size: Decimal | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    step_size: Decimal | None = None,
    min_qty: Decimal | None = None,
    max_qty: Decimal | None = None,
    market_max_qty: Decimal | None = None,
    min_notional: Decimal | None = None,
    max_notional: Decimal | None = None,
    max_num_orders: int | None = None,
    maker_fee: Decimal | None = None,
    taker_fee: Decimal | None = None,
) -> SymbolUpdate:
    """Change a symbol's filters and fees (None: leave as is), under the pair lock,
    so an order is checked against either the old set or the new one, never a mix.

    The whole resulting set must be coherent, as for ``symbol_create``. tickSize and
    stepSize may change only while the symbol has no open order: the books count
    resting orders in ticks and lots of the old sizes (halt, cancel, then change).
    Orders already resting under the old filters stay as they are.
    """
    given = {
        name: value
        for name, value in (
            ("tick_size", tick_size),
            ("min_price", min_price),
            ("max_price", max_price),
            ("step_size", step_size),
            ("min_qty", min_qty),
            ("max_qty", max_qty),
            ("market_max_qty", market_max_qty),
            ("min_notional", min_notional),
            ("max_notional", max_notional),
            ("max_num_orders", max_num_orders),
            ("maker_fee", maker_fee),
            ("taker_fee", taker_fee),
        )
        if value is not None
    }
    with pair_locked(symbol) as slot, transaction.atomic():
        row = symbol_lock(symbol)
        changed = {
            name: (getattr(row, name), value)
            for name, value in given.items()
            if getattr(row, name) != value
        }
        if not changed:
            return SymbolUpdate(symbol=row, changed={})
        merged = {
            name: given.get(name, getattr(row, name)) for name in SYMBOL_EDITABLE_FIELDS
        }
        _refuse(symbol_filters_problems(base=row.base_id, quote=row.quote_id, **merged))
        regrid = bool(changed.keys() & set(SYMBOL_GRID_FIELDS))
        if regrid and symbol_open_order_count(symbol=symbol):
            raise ExchangeError(
                errors.INVALID_PARAMETER,
                "tickSize and stepSize can change only while the symbol has no open "
                "orders: halt it and cancel them first.",
            )
        for name, (_, value) in changed.items():
            setattr(row, name, value)
        row.save(update_fields=list(changed))
        if regrid:
            # Rebuild this process's book in the new units on next use.
            slot.mark_stale()
        return SymbolUpdate(symbol=row, changed=changed)


def symbol_open_order_count(*, symbol: str) -> int:
    return Order.objects.filter(symbol_id=symbol, status__in=OPEN_STATUSES).count()


# --- Orders -----------------------------------------------------------------------


@dataclass(slots=True)
class CancelOutcome:
    """What a bulk cancel did: the orders cancelled, and those left with why."""

    cancelled: list[Order] = field(default_factory=list)
    skipped: list[tuple[Order, str]] = field(default_factory=list)


def order_cancel_many(*, orders: Iterable[Order]) -> CancelOutcome:
    """Cancel each given order through ``order_cancel``, one transaction each, as its
    owner would. Orders that are no longer open are skipped, with the reason."""
    outcome = CancelOutcome()
    for order in orders:
        if not order.is_open:
            outcome.skipped.append((order, f"already {order.status}"))
            continue
        try:
            cancelled = order_cancel(
                user_id=order.user_id, symbol=order.symbol_id, order_id=order.order_id
            )
        except ExchangeError as exc:
            # Filled or cancelled since it was read.
            outcome.skipped.append((order, exc.msg))
            continue
        outcome.cancelled.append(cancelled)
    return outcome


def order_cancel_matching(
    *,
    symbol: str | None = None,
    user_id: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Counter[str]:
    """Cancel every open order on ``symbol`` and/or of ``user_id`` (neither: every
    open order), with ``order_cancel_all`` for one (user, symbol) at a time, so each
    step holds one pair lock briefly and trading goes on meanwhile. Orders placed
    after the scan are not touched: halt the symbol first to stop new ones.

    Returns how many orders were cancelled per symbol. ``progress(done, total)`` is
    called after each (user, symbol) step.
    """
    query = Order.objects.filter(status__in=OPEN_STATUSES)
    if symbol is not None:
        if not Symbol.objects.filter(symbol=symbol).exists():
            raise bad_symbol()
        query = query.filter(symbol_id=symbol)
    if user_id is not None:
        query = query.filter(user_id=user_id)
    pairs = list(
        query.values_list("symbol_id", "user_id")
        .distinct()
        .order_by("symbol_id", "user_id")
    )
    counts: Counter[str] = Counter()
    for done, (pair, owner) in enumerate(pairs, start=1):
        counts[pair] += len(order_cancel_all(user_id=owner, symbol=pair))
        if progress is not None:
            progress(done, len(pairs))
    return counts


# --- Users ------------------------------------------------------------------------

# A request authenticated just before the user was disabled may still commit an
# order after the first sweep; a few sweeps catch those.
DISABLE_SWEEPS = 3


def user_disable_with_orders(*, user_id: int) -> list[Order]:
    """Disable a user: no more logins, every API key revoked, then every open order
    on every symbol cancelled and its funds released. Returns the cancelled orders.

    The user is disabled first so that no new order is accepted while the open ones
    are cancelled. Symbols are handled one at a time, never two pair locks at once.
    """
    if not User.objects.filter(id=user_id).exists():
        raise ExchangeError(errors.INVALID_PARAMETER, "Unknown user.", 404)
    with transaction.atomic():
        funds.user_disable(user_id=user_id)
    cancelled: list[Order] = []
    for _ in range(DISABLE_SWEEPS):
        symbols = list(
            Order.objects.filter(user_id=user_id, status__in=OPEN_STATUSES)
            .values_list("symbol_id", flat=True)
            .distinct()
            .order_by("symbol_id")
        )
        if not symbols:
            break
        for symbol in symbols:
            cancelled += order_cancel_all(user_id=user_id, symbol=symbol)
    return cancelled


# --- Trades export ----------------------------------------------------------------

TRADE_EXPORT_HEADER = [
    "symbol",
    "trade_id",
    "time",
    "time_utc",
    "price",
    "qty",
    "quote_qty",
    "buyer",
    "seller",
    "buyer_order_id",
    "seller_order_id",
    "is_buyer_maker",
    "buyer_fee",
    "seller_fee",
]
EXPORT_CHUNK_ROWS = 2000


def amount_text(value: Decimal) -> str:
    """An amount in plain notation without trailing zeros: 60000, 0.0015."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def ms_to_datetime(ms: int) -> datetime:
    """A time column (ms since the epoch) as an aware UTC datetime, exactly."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC) + timedelta(
        milliseconds=ms % 1000
    )


def datetime_to_ms(moment: datetime) -> int:
    """An aware datetime as ms since the epoch, the unit of the time columns."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return delta // timedelta(milliseconds=1)


def _trades_between(symbol: str, since_ms: int, until_ms: int | None):
    if not Symbol.objects.filter(symbol=symbol).exists():
        raise bad_symbol()
    query = Trade.objects.filter(symbol_id=symbol, time__gte=since_ms)
    if until_ms is not None:
        query = query.filter(time__lt=until_ms)
    return query


def trade_export_count(
    *, symbol: str, since_ms: int, until_ms: int | None = None
) -> int:
    """How many trades :func:`trade_export_rows` yields for the same arguments."""
    return _trades_between(symbol, since_ms, until_ms).count()


def trade_export_rows(
    *, symbol: str, since_ms: int, until_ms: int | None = None
) -> Iterator[list[str]]:
    """The symbol's trades with ``since_ms <= time < until_ms``, in trade id order,
    as CSV rows matching ``TRADE_EXPORT_HEADER``, streamed from the database in
    chunks (never the whole result in memory). Buyer's fee is in the base asset,
    seller's in the quote."""
    query = (
        _trades_between(symbol, since_ms, until_ms)
        .order_by("trade_id")
        .values_list(
            "trade_id",
            "time",
            "price",
            "qty",
            "quote_qty",
            "buyer__username",
            "seller__username",
            "buyer_order_id",
            "seller_order_id",
            "is_buyer_maker",
            "buyer_fee",
            "seller_fee",
        )
    )
    for (
        trade_id,
        time_ms,
        price,
        qty,
        quote_qty,
        buyer,
        seller,
        buyer_order_id,
        seller_order_id,
        is_buyer_maker,
        buyer_fee,
        seller_fee,
    ) in query.iterator(chunk_size=EXPORT_CHUNK_ROWS):
        yield [
            symbol,
            str(trade_id),
            str(time_ms),
            ms_to_datetime(time_ms).isoformat(timespec="milliseconds"),
            amount_text(price),
            amount_text(qty),
            amount_text(quote_qty),
            buyer,
            seller,
            str(buyer_order_id),
            str(seller_order_id),
            "true" if is_buyer_maker else "false",
            amount_text(buyer_fee),
            amount_text(seller_fee),
        ]


# --- The staff landing page -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SymbolOverview:
    """One symbol at a glance. Volumes are over the 24 hours before ``now_ms``."""

    symbol: str
    status: str
    best_bid: Decimal | None
    best_ask: Decimal | None
    volume_24h: Decimal
    quote_volume_24h: Decimal
    trades_24h: int
    open_orders: int


def symbol_overview_list(*, now_ms: int) -> list[SymbolOverview]:
    """Every symbol's status, best bid and ask (highest open BUY, lowest open SELL),
    24h volume and open order count, from the database in a few aggregate queries."""
    books: dict[tuple[str, str], dict] = {
        (row["symbol_id"], row["side"]): row
        for row in Order.objects.filter(status__in=OPEN_STATUSES)
        .values("symbol_id", "side")
        .annotate(highest=Max("price"), lowest=Min("price"), count=Count("id"))
        .order_by()
    }
    recent = Trade.objects.filter(time__gte=now_ms - DAY_MS)
    volumes = sums_by(recent, ["symbol_id"], ["qty", "quote_qty"])
    trade_counts = dict(
        recent.values("symbol_id")
        .annotate(count=Count("id"))
        .order_by()
        .values_list("symbol_id", "count")
    )
    result = []
    for symbol, status in Symbol.objects.order_by("symbol").values_list(
        "symbol", "status"
    ):
        bids = books.get((symbol, Order.Side.BUY), {})
        asks = books.get((symbol, Order.Side.SELL), {})
        volume, quote_volume = volumes.get((symbol,), (ZERO, ZERO))
        result.append(
            SymbolOverview(
                symbol=symbol,
                status=status,
                best_bid=bids.get("highest"),
                best_ask=asks.get("lowest"),
                volume_24h=volume,
                quote_volume_24h=quote_volume,
                trades_24h=trade_counts.get(symbol, 0),
                open_orders=bids.get("count", 0) + asks.get("count", 0),
            )
        )
    return result


def reconciliation_last() -> ReconciliationRun | None:
    """The most recent ``reconcile`` run, if any."""
    return ReconciliationRun.objects.order_by("-started_at", "-id").first()


# --- Progress on a terminal -------------------------------------------------------


def _plain(text: str) -> str:
    return text


class Progress:
    """A "label: done/total" counter rewritten in place on a terminal, and silent
    when the stream is not one (a pipe, a file, a cron job's mail)."""

    def __init__(self, stream, label: str, *, every: int = 1) -> None:
        self.stream = stream
        self.label = label
        self.every = max(1, every)
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self.shown = False

    def __call__(self, done: int, total: int | None = None) -> None:
        if not self.enabled or (done % self.every and done != total):
            return
        text = f"\r{self.label}: {done}" + (f"/{total}" if total is not None else "")
        self._write(text)
        self.shown = True

    def finish(self) -> None:
        """End the progress line, if one was drawn."""
        if self.shown:
            self._write("\n")
            self.shown = False

    def _write(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):
            self.stream.write(text, style_func=_plain, ending="")
        else:
            self.stream.write(text)
        self.stream.flush()
