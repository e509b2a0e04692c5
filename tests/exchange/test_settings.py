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


# Production: a real database. The check fails at import, before connecting.
PRODUCTION_DB = "postgres://nobody@127.0.0.1:9/none"


def test_production_refuses_to_boot_without_a_secret_key():
    result = manage("check", DATABASE_URL=PRODUCTION_DB)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_boot_without_the_api_key_encryption_key():
    result = manage("check", SECRET_KEY="s" * 60, DATABASE_URL=PRODUCTION_DB)
    assert result.returncode != 0
    assert "API_KEY_ENCRYPTION_KEY" in result.stderr


def test_local_commands_work_without_secrets_on_a_kept_development_key(tmp_path):
    key_file = tmp_path / "dev-secret-key"
    probe = [
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
    ]
    env = {
        "DEV_SECRET_KEY_FILE": str(key_file),
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "DATABASE_URL": "",
    }
    first = manage(*probe, **env)
    assert first.returncode == 0, first.stderr
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    assert first.stdout.strip().endswith(key) and len(key) >= 50
    second = manage(*probe, **env)
    assert second.stdout.strip().endswith(key)
    assert manage("check", **env).returncode == 0


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
