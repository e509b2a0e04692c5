from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and funds"

    def ready(self) -> None:
        from accounts import schema  # noqa: F401 - registers the OpenAPI schemes
