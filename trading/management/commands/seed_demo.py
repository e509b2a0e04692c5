from django.core.management.base import BaseCommand

from trading.backoffice.demo import demo_refresh, demo_seed


class Command(BaseCommand):
    help = (
        "Create demo data, idempotently: assets BTC, ETH, USDT; users alice and bob "
        "with funded balances; a staff user 'operator' in the Operators group; the "
        "symbols BTCUSDT, ETHUSDT, ETHBTC with a few resting orders on both sides. "
        "Prints how to log in. --refresh makes a drained demo market live again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--refresh",
            action="store_true",
            help="cancel the demo users' orders, top up their balances and place "
            "a fresh ladder of orders around each symbol's last price",
        )

    def handle(self, *args, **options):
        lines = demo_refresh() if options["refresh"] else demo_seed()
        for line in lines:
            self.stdout.write(line)
