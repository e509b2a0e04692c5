"""Boot-time configuration, checked in fresh processes."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"SECRET_KEY", "DEBUG", "EXCHANGE_TESTING", "API_KEY_ENCRYPTION_KEY"}
    }
    clean["DJANGO_SETTINGS_MODULE"] = "exchange.settings"
    clean.update(env)
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_boot_without_a_secret_key():
    result = manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_boot_without_the_api_key_encryption_key():
    result = manage("check", SECRET_KEY="s" * 60)
    assert result.returncode != 0
    assert "API_KEY_ENCRYPTION_KEY" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="k3y-" + "abcdefghij" * 6,
        API_KEY_ENCRYPTION_KEY="hTn1tY3JFrP4oHq2Ao4Hj9Z0hFvXw2m3b7GfVqXn0sA=",
        ALLOWED_HOSTS="exchange.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_sentry_is_initialised_only_with_a_dsn():
    probe = (
        "import django; django.setup(); import sentry_sdk; "
        "print(sentry_sdk.get_client().is_active())"
    )

    def active(**env):
        clean = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
        clean.update(DJANGO_SETTINGS_MODULE="exchange.settings_test", **env)
        result = subprocess.run(  # noqa: S603 - fixed argv
            [sys.executable, "-c", probe],
            cwd=ROOT,
            env=clean,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert active() == "False"
    # A DSN pointing at a closed local port: initialised, and nothing can leave.
    assert active(SENTRY_DSN="http://key@127.0.0.1:9/1") == "True"
