"""python manage.py doctor: check a nojackal install and say what to fix.

Configuration, services (database, broker, beat, workers), static files, migrations and stored
credentials, one line each: ``ok``, ``warn`` (works, but not as production should) or ``FAIL``
with what to do. Exits 1 when anything failed, so a deploy script can stop on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from config.health import (
    Problem,
    check_beat,
    check_broker,
    check_database,
    check_outbox,
    check_source_polls,
    check_static_files,
)
from monitoring.credentials import CredentialsError, decrypt_json


class Advice(Exception):
    """Works, but not as it should in production: what and what to do."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what, fix)
        self.what = what
        self.fix = fix


def check_configuration() -> str:
    """Settings a production install needs (DEBUG off, a real database and broker, alerts)."""
    if settings.DEBUG:
        raise Advice(
            "DJANGO_DEBUG is on: fine on a laptop, never in production.",
            "set DJANGO_DEBUG=0 (and SECRET_KEY, ALLOWED_HOSTS, NOJACKAL_SECRETS_KEY).",
        )
    if not settings.ALLOWED_HOSTS:
        raise Problem(
            "ALLOWED_HOSTS is empty: every request is refused with 400.",
            "set ALLOWED_HOSTS to the site's host names, comma-separated.",
        )
    if connection.vendor == "sqlite":
        raise Advice(
            "The database is SQLite: one machine, one writer at a time.",
            "set DATABASE_URL to PostgreSQL (postgres://user:pass@host:5432/db).",
        )
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        raise Advice(
            "The broker is the laptop's file transport: workers must share this machine.",
            "set CELERY_BROKER_URL to Redis or RabbitMQ.",
        )
    if not (settings.NOJACKAL_ALERT_EMAILS or settings.NOJACKAL_ALERT_URLS):
        raise Advice(
            "No one is alerted about spiking incidents or own-brand cases near their due time.",
            "set NOJACKAL_ALERT_EMAILS or NOJACKAL_ALERT_URLS.",
        )
    return "production settings"


def check_workers() -> str:
    """At least one Celery worker answers a ping."""
    from config.celery import app

    try:
        replies = app.control.ping(timeout=2.0)
    # Whatever the broker raised, the answer is "could not ask".
    except Exception as exc:
        raise Problem(
            f"Could not ask the workers ({type(exc).__name__}: {exc}).",
            "fix the broker first (see above).",
        ) from exc
    if not replies:
        raise Problem(
            "No Celery worker answered within 2 s: nothing is polled or sent.",
            "start one: celery -A config worker --loglevel INFO.",
        )
    return f"{len(replies)} worker(s) answered"


def check_migrations() -> str:
    """Every migration is applied."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        more = f" and {len(plan) - 5} more" if len(plan) > 5 else ""
        raise Problem(
            f"{len(plan)} migration(s) not applied: {names}{more}.",
            "run python manage.py migrate.",
        )
    return "all applied"


def check_credentials() -> str:
    """Every stored credential decrypts with NOJACKAL_SECRETS_KEY."""
    from monitoring.models import Account, Source

    checked, unreadable = 0, []
    for model in (Account, Source):
        rows = model.objects.exclude(credentials_encrypted="").values_list(
            "pk", "credentials_encrypted"
        )
        for pk, token in rows:
            checked += 1
            try:
                decrypt_json(token)
            except CredentialsError:
                unreadable.append(f"{model._meta.verbose_name} {pk}")
    if unreadable:
        raise Problem(
            "Stored credentials that NOJACKAL_SECRETS_KEY cannot decrypt: "
            f"{', '.join(unreadable)}.",
            "put the key they were written with back in NOJACKAL_SECRETS_KEY, after the current "
            "one (comma-separated), or enter those credentials again in the admin.",
        )
    return f"{checked} stored credential(s) decrypt"


#: In order; a check whose service is down would only repeat its error, so the database's
#: dependants are skipped when it fails.
CHECKS: list[tuple[str, Callable[[], str], bool]] = [
    ("configuration", check_configuration, False),
    ("database", check_database, False),
    ("migrations", check_migrations, True),
    ("credentials", check_credentials, True),
    ("static files", check_static_files, False),
    ("broker", check_broker, False),
    ("workers", check_workers, False),
    ("beat", check_beat, True),
    ("source polls", check_source_polls, True),
    ("outbox", check_outbox, True),
]


class Command(BaseCommand):
    help = "Check configuration, services, static files, migrations and credentials."

    def handle(self, *args: Any, **options: Any) -> None:
        failed = 0
        database_ok = True
        for name, check, needs_database in CHECKS:
            if needs_database and not database_ok:
                self.stdout.write(f"skip  {name}: needs the database")
                continue
            try:
                found = check()
            except Advice as advice:
                self.stdout.write(self.style.WARNING(f"warn  {name}: {advice.what}"))
                self.stdout.write(f"      fix: {advice.fix}")
            except (Problem, DatabaseError) as exc:
                failed += 1
                database_ok = database_ok and name != "database"
                what, fix = (
                    (exc.what, exc.fix)
                    if isinstance(exc, Problem)
                    else (f"{type(exc).__name__}: {exc}", "fix the database (see above).")
                )
                self.stdout.write(self.style.ERROR(f"FAIL  {name}: {what}"))
                self.stdout.write(f"      fix: {fix}")
            else:
                self.stdout.write(self.style.SUCCESS(f"ok    {name}: {found}"))
        if failed:
            self.stdout.write(self.style.ERROR(f"\n{failed} problem(s) to fix."))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("\nNothing to fix."))
