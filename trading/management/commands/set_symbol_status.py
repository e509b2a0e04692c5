from django.core.management.base import BaseCommand, CommandError

from exchange.errors import ExchangeError
from trading.models import Symbol
from trading.symbols import services as symbol_services


class Command(BaseCommand):
    help = (
        "Set a symbol's status: TRADING (open), HALT (new orders refused with -2010 "
        "'Market is closed.', cancels still accepted) or BREAK (closed, as HALT). "
        "The change is made under the pair lock, between two orders."
    )

    def add_arguments(self, parser):
        parser.add_argument("symbol", type=str.upper, help="e.g. BTCUSDT")
        parser.add_argument(
            "status", type=str.upper, choices=Symbol.Status.values, help="new status"
        )

    def handle(self, *args, symbol, status, **options):
        before = (
            Symbol.objects.filter(symbol=symbol)
            .values_list("status", flat=True)
            .first()
        )
        if before is None:
            raise CommandError(f"No symbol named {symbol!r}.")
        try:
            row = symbol_services.symbol_set_status(symbol=symbol, status=status)
        except ExchangeError as exc:
            raise CommandError(f"{symbol}: {exc.msg}") from None
        if before == row.status:
            self.stdout.write(f"{symbol} was already {row.status}.")
        else:
            self.stdout.write(f"{symbol}: {before} -> {row.status}.")
