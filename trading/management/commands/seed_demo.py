from django.core.management.base import BaseCommand

from trading.backoffice.demo import demo_seed


class Command(BaseCommand):
    help = (
        "Create demo data, idempotently: assets BTC, ETH, USDT; users alice and bob "
        "with funded balances; the symbols BTCUSDT, ETHUSDT, ETHBTC with a few "
        "resting orders on both sides. Prints how to log in."
    )

    def handle(self, *args, **options):
        for line in demo_seed():
            self.stdout.write(line)
