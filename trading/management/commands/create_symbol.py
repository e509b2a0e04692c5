from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from exchange.errors import ExchangeError
from trading.backoffice import services as ops
from trading.models import Symbol


def amount(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CommandError(f"{value!r} is not a decimal number.") from None
    if not number.is_finite() or number < 0:
        raise CommandError(f"{value!r} must be a number >= 0.")
    return number


class Command(BaseCommand):
    help = (
        "List a new trading pair, e.g. `create_symbol BTCUSDT BTC USDT --tick-size "
        "0.01 --step-size 0.00001 --min-qty 0.00001 --max-qty 9000`. The filters "
        "must be coherent with the assets' precision (every price * quantity exact "
        "in the quote asset); the symbol is its base followed by its quote. Refused "
        "if it already exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("symbol", type=str.upper, help="e.g. BTCUSDT")
        parser.add_argument("base", type=str.upper, help="base asset code, e.g. BTC")
        parser.add_argument("quote", type=str.upper, help="quote asset code, e.g. USDT")
        parser.add_argument("--tick-size", required=True, help="price step")
        parser.add_argument("--step-size", required=True, help="quantity step")
        parser.add_argument("--min-qty", required=True)
        parser.add_argument("--max-qty", required=True)
        parser.add_argument("--min-notional", default="0", help="min price * qty")
        parser.add_argument("--max-notional", default="0", help="0: no maximum")
        parser.add_argument("--min-price", default="0")
        parser.add_argument("--max-price", default="0", help="0: no maximum")
        parser.add_argument(
            "--market-max-qty", default="0", help="0: same as --max-qty"
        )
        parser.add_argument(
            "--max-num-orders", type=int, default=200, help="open orders per user"
        )
        parser.add_argument("--maker-fee", default="0.001", help="0.001 is 0.1%%")
        parser.add_argument("--taker-fee", default="0.001", help="0.001 is 0.1%%")
        parser.add_argument(
            "--status",
            type=str.upper,
            choices=Symbol.Status.values,
            default=Symbol.Status.TRADING,
            help="initial status; HALT lists it closed (default TRADING)",
        )

    def handle(self, *args, symbol, base, quote, status, max_num_orders, **options):
        names = [
            "tick_size",
            "step_size",
            "min_qty",
            "max_qty",
            "min_notional",
            "max_notional",
            "min_price",
            "max_price",
            "market_max_qty",
            "maker_fee",
            "taker_fee",
        ]
        filters = {name: amount(options[name]) for name in names}
        try:
            row = ops.symbol_add(
                symbol=symbol,
                base=base,
                quote=quote,
                status=status,
                max_num_orders=max_num_orders,
                **filters,
            )
        except ExchangeError as exc:
            raise CommandError(f"{symbol}: {exc.msg}") from None
        self.stdout.write(
            f"Created {row.symbol} ({row.base_id}/{row.quote_id}), status "
            f"{row.status}, tickSize {ops.amount_text(row.tick_size)}, stepSize "
            f"{ops.amount_text(row.step_size)}."
        )
