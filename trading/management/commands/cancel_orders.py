from django.core.management.base import BaseCommand, CommandError

from accounts.management.base import user_by_name
from exchange.errors import ExchangeError
from trading.backoffice import services as ops


class Command(BaseCommand):
    help = (
        "Cancel open orders, releasing what they hold: those on --symbol, those of "
        "--user, or both filters together; --all cancels every open order on the "
        "exchange. Orders are cancelled per user and symbol through the cancel "
        "service, so trading goes on meanwhile; halt a symbol first to stop new "
        "orders. Shows progress on a terminal."
    )

    def add_arguments(self, parser):
        parser.add_argument("--symbol", type=str.upper, help="e.g. BTCUSDT")
        parser.add_argument("--user", help="username")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="all_orders",
            help="with neither --symbol nor --user: cancel every open order",
        )

    def handle(self, *args, symbol, user, all_orders, **options):
        if symbol is None and user is None and not all_orders:
            raise CommandError(
                "Give --symbol, --user or both; --all cancels every open order."
            )
        if all_orders and (symbol is not None or user is not None):
            raise CommandError("--all cannot be combined with --symbol or --user.")
        user_id = user_by_name(user).id if user is not None else None
        progress = ops.Progress(self.stdout, "cancelling (user, symbol) groups")
        try:
            counts = ops.order_cancel_matching(
                symbol=symbol, user_id=user_id, progress=progress
            )
        except ExchangeError as exc:
            raise CommandError(f"{symbol}: {exc.msg}" if symbol else exc.msg) from None
        finally:
            progress.finish()
        total = sum(counts.values())
        if not total:
            self.stdout.write("No open orders matched.")
            return
        detail = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
        self.stdout.write(f"Cancelled {total} open order(s): {detail}.")
