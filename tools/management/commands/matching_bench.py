from django.core.management.base import BaseCommand

from matching.bench import format_report, run_bench
from tools.bench.order_place import format_order_place_report, order_place_bench


class Command(BaseCommand):
    help = (
        "Benchmark the matching engine on a seeded stream of commands (as "
        "`python -m matching.bench`), then orders/s through order_place on the "
        "configured database (it writes to a BENCHUSDT symbol)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--deep", action="store_true", help="30%% crossing: deep book"
        )
        parser.add_argument("--commands", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=20240601)
        parser.add_argument("--repeat", type=int, default=3)
        parser.add_argument(
            "--orders", type=int, default=3000, help="order_place count"
        )
        parser.add_argument("--skip-engine", action="store_true")
        parser.add_argument("--skip-database", action="store_true")

    def handle(self, *args, **o):
        if not o["skip_engine"]:
            figures = run_bench(
                n=o["commands"], seed=o["seed"], deep=o["deep"], repeat=o["repeat"]
            )
            self.stdout.write(format_report(figures))
        if not o["skip_database"]:
            self.stdout.write(
                format_order_place_report(order_place_bench(orders=o["orders"]))
            )
