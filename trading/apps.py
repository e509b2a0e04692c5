from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = "Trading"

    def ready(self) -> None:
        # The back office's admin pages and reconcile checks register themselves.
        from trading.backoffice import admin, checks  # noqa: F401
