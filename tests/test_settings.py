"""Settings come from the environment; production refuses to start without a real secret."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parent.parent

# Variables the test process itself sets (tests/settings.py) must not leak into
# the child processes that check production behaviour.
_OURS = {
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "SECURE_SSL_REDIRECT",
    "NOJACKAL_SECRETS_KEY",
}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in _OURS}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "nojackal.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "NOJACKAL_SECRETS_KEY": Fernet.generate_key().decode(),
    }
    env.update(overrides)
    return env


def test_production_without_a_secret_key_refuses_to_start():
    result = run_manage("check", **production_env(SECRET_KEY=""))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_with_the_development_key_refuses_to_start():
    result = run_manage(
        "check", **production_env(SECRET_KEY="django-insecure-nojackal-development-only")
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_a_retention_shorter_than_a_day_is_refused_at_start():
    result = run_manage("check", **production_env(NOJACKAL_RETENTION_DAYS="0"))
    assert result.returncode != 0
    assert "NOJACKAL_RETENTION_DAYS must be at least 1" in result.stderr


def test_a_malformed_boolean_is_a_clear_error():
    result = run_manage("check", **production_env(DJANGO_DEBUG="maybe"))
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr


def test_the_laptop_default_is_sqlite_and_a_brokerless_transport(tmp_path):
    script = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE']);"
        "print(s.CELERY_BROKER_URL);"
        "print(s.DATABASES['default']['OPTIONS']['transaction_mode'])"
    )
    result = run_manage(
        "shell", "--no-imports", "-c", script, DJANGO_DEBUG="1", NOJACKAL_DATA_DIR=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    engine, broker, mode = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker.startswith("filesystem://")
    assert mode == "IMMEDIATE"


def test_production_without_a_credentials_key_refuses_to_start():
    result = run_manage("check", **production_env(NOJACKAL_SECRETS_KEY=""))
    assert result.returncode != 0
    assert "NOJACKAL_SECRETS_KEY must be set" in result.stderr


def test_production_with_a_malformed_credentials_key_refuses_to_start():
    good = Fernet.generate_key().decode()
    result = run_manage("check", **production_env(NOJACKAL_SECRETS_KEY=f"{good},not-a-key"))
    assert result.returncode != 0
    assert "key 2 of 2 is not a valid Fernet key" in result.stderr
