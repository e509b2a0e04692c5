from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Create a user. Without --password the user cannot log in with one."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", help="checked by the password validators")
        parser.add_argument("--email", default="")
        parser.add_argument("--staff", action="store_true", help="may use the admin")
        parser.add_argument("--superuser", action="store_true")

    def handle(self, *args, username, password, email, staff, superuser, **options):
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        if password is not None:
            try:
                validate_password(password, User(username=username, email=email))
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        try:
            user = services.user_create(
                username=username,
                password=password,
                email=email,
                is_staff=staff or superuser,
                is_superuser=superuser,
            )
        except (ValidationError, IntegrityError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Created user {user.username} (id {user.id}).")
