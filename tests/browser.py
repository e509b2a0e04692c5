"""A real browser for tests: Debian's Chromium, driven by Playwright. Installed by
scripts/install-browser.sh; no test tool downloads a browser of its own."""

from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000


def launch(playwright, profile: Path, **options):
    """A browser context of its own (cookies, storage) on a fresh profile; a second
    one is a second person at another computer."""
    context = playwright.chromium.launch_persistent_context(
        user_data_dir=str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        **options,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def browser(tmp_path, monkeypatch):
    """A Playwright session with a fresh Chromium profile; skipped, saying why,
    where the browser or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: run scripts/install-browser.sh")
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed: pip install -r requirements-dev.txt",
    )
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the
    # test makes between browser steps are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_api.sync_playwright() as playwright:
        context = launch(playwright, tmp_path / "profile")
        try:
            yield playwright, context
        finally:
            context.close()
            # The ORM calls made inside Playwright's context got connections of
            # their own; close them, or they outlive the test database.
            connections.close_all()
