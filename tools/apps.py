from django.apps import AppConfig


class ToolsConfig(AppConfig):
    """Benchmark and profiling commands; no models."""

    name = "tools"
    verbose_name = "Test and benchmark tooling"
