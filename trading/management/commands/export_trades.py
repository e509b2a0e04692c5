import csv
from datetime import UTC, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from exchange.errors import ExchangeError
from trading.backoffice import services as ops


def moment(value: str, name: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 datetime (UTC unless it says)."""
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = datetime.combine(day, time()) if day else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(
            f"{name} {value!r} is not a date (YYYY-MM-DD) or an ISO 8601 datetime."
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Write a symbol's trades since a date as CSV to stdout, oldest first, "
        "streamed from the database (any size). Times are UTC; a bare date means "
        "its midnight. Columns: " + ",".join(ops.TRADE_EXPORT_HEADER) + ". "
        "Shows progress on stderr when that is a terminal."
    )

    def add_arguments(self, parser):
        parser.add_argument("--symbol", type=str.upper, required=True)
        parser.add_argument(
            "--since", required=True, help="YYYY-MM-DD or ISO datetime, inclusive"
        )
        parser.add_argument(
            "--until", help="YYYY-MM-DD or ISO datetime, exclusive (default: now)"
        )

    def handle(self, *args, symbol, since, until, **options):
        since_ms = ops.datetime_to_ms(moment(since, "--since"))
        until_ms = ops.datetime_to_ms(moment(until, "--until")) if until else None
        if until_ms is not None and until_ms <= since_ms:
            raise CommandError("--until must be after --since.")
        progress = ops.Progress(self.stderr, f"exporting {symbol}", every=1000)
        try:
            total = (
                ops.trade_export_count(
                    symbol=symbol, since_ms=since_ms, until_ms=until_ms
                )
                if progress.enabled
                else None
            )
            rows = ops.trade_export_rows(
                symbol=symbol, since_ms=since_ms, until_ms=until_ms
            )
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(ops.TRADE_EXPORT_HEADER)
            for done, row in enumerate(rows, start=1):
                writer.writerow(row)
                progress(done, total)
        except ExchangeError as exc:
            raise CommandError(f"{symbol}: {exc.msg}") from None
        finally:
            progress.finish()
