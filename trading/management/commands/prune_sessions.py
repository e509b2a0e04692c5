from importlib import import_module

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class Command(BaseCommand):
    help = (
        "Delete expired sessions from the session store (Django's clearsessions "
        "does the work) and say how many were removed. Safe to run from cron at "
        "any time; fails if the session engine cannot clear expired sessions."
    )

    def handle(self, *args, **options):
        try:
            store = import_module(settings.SESSION_ENGINE).SessionStore
        except (ImportError, AttributeError):
            raise CommandError(
                f"SESSION_ENGINE {settings.SESSION_ENGINE!r} is not a session engine."
            ) from None
        # Database-backed engines (db, cached_db) can count what they hold.
        model = store.get_model_class() if hasattr(store, "get_model_class") else None
        expired = (
            model.objects.filter(expire_date__lt=timezone.now()).count()
            if model is not None
            else None
        )
        call_command("clearsessions", stdout=self.stdout, stderr=self.stderr)
        if model is None:
            self.stdout.write("Expired sessions cleared.")
        else:
            left = model.objects.count()
            self.stdout.write(
                f"Removed {expired} expired session(s); {left} session(s) left."
            )
