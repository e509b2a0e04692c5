import json

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.management.base import user_by_name
from exchange.errors import ExchangeError


class Command(BaseCommand):
    help = (
        "Create an API key for a user and print it as one JSON line "
        '{"apiKey": ..., "secretKey": ...}. The secret is not shown again.'
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--permissions", default="read", help="comma list of read, trade"
        )
        parser.add_argument("--label", default="")
        parser.add_argument("--ip", action="append", default=[], help="allowed IP/CIDR")

    def handle(self, *args, username, permissions, label, ip, **options):
        user = user_by_name(username)
        wanted = [p.strip() for p in permissions.split(",") if p.strip()]
        try:
            key, secret = services.apikey_create(
                user_id=user.id, label=label, permissions=wanted, ip_allowlist=ip
            )
        except ExchangeError as exc:
            raise CommandError(exc.msg) from None
        self.stdout.write(json.dumps({"apiKey": key.key, "secretKey": secret}))
