from django.core.management.base import BaseCommand, CommandError

from trading.marketdata.rebuild import market_cache_rebuild
from trading.models import Symbol


class Command(BaseCommand):
    help = (
        "Refill the market-data cache (depth and recent trades) of every symbol, or "
        "of the given ones, from the database. Use after a Redis flush or failover."
    )

    def add_arguments(self, parser):
        parser.add_argument("symbols", nargs="*", help="default: every symbol")

    def handle(self, *args, symbols, **options):
        known = set(Symbol.objects.values_list("symbol", flat=True))
        unknown = sorted(set(symbols) - known)
        if unknown:
            raise CommandError(f"Unknown symbol(s): {', '.join(unknown)}")
        for symbol in symbols or sorted(known):
            written = market_cache_rebuild(symbol=symbol)
            self.stdout.write(
                f"{symbol}: seq {written['seq']}, {written['bids']} bid and "
                f"{written['asks']} ask levels, {written['trades']} trades"
            )
