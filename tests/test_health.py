"""The operators' view: /health/ (live, ready, full), /metrics/, manage.py doctor, static files."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.health import check_static_files
from monitoring.models import Source
from outreach.models import OutboundAction
from tests.broker_proxy import nojackal_broker_at, refused_address
from tests.factories import SourceFactory
from tests.outreach.conftest import (  # noqa: F401 (fixtures for the queued rows)
    account,
    advance,
    analyst,
    competitor,
    own_brand,
    playbook,
    reviewer,
    roles,
    world,
)
from tests.test_settings import production_env, run_manage

pytestmark = pytest.mark.django_db


def health_json(client, path: str = "/health/") -> tuple[int, dict[str, str]]:
    response = client.get(path, {"format": "json"})
    return response.status_code, json.loads(response.content)


def result(found: dict[str, str], name: str) -> str:
    return found[f"Probe(name='{name}')"]


def beat_ticked(ago: dt.timedelta) -> None:
    every, _ = IntervalSchedule.objects.get_or_create(every=30, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(
        name="poll-due-sources",
        defaults={
            "task": "monitoring.tasks.poll_due_sources",
            "interval": every,
            "last_run_at": timezone.now() - ago,
        },
    )


@pytest.fixture
def due_action(advance):  # noqa: F811 (the fixture imported above)
    """A reply queued by the real moves (the database refuses any other), due ``waited`` ago."""

    def _due(waited: dt.timedelta) -> OutboundAction:
        case = advance("approved")
        action = OutboundAction.objects.get(case=case, kind="reply")
        OutboundAction.objects.filter(pk=action.pk).update(not_before=timezone.now() - waited)
        action.refresh_from_db()
        return action

    return _due


@pytest.mark.django_db(databases=[])
def test_live_answers_without_touching_the_database(client) -> None:
    # Any query here would fail: this test has no database access at all
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_ready_answers_200_when_the_database_and_broker_answer(client) -> None:
    status, found = health_json(client, "/health/ready")
    assert status == 200, found
    assert set(found) == {"Probe(name='database')", "Probe(name='broker')"}


def test_ready_answers_500_naming_the_broker_when_it_refuses(client) -> None:
    host, port = refused_address()
    with nojackal_broker_at(f"redis://{host}:{port}/11"):
        status, found = health_json(client, "/health/ready")
    assert status == 500
    assert result(found, "database") == "OK"
    assert "does not answer" in result(found, "broker")
    assert "CELERY_BROKER_URL" in result(found, "broker")


def test_health_is_ok_with_a_fresh_beat_tick_recent_polls_and_no_overdue_outbox(
    client, due_action
) -> None:
    # Given beat ticked a minute ago, a source that polled just now, and nothing overdue
    beat_ticked(dt.timedelta(minutes=1))
    SourceFactory(last_success_at=timezone.now())
    due_action(dt.timedelta(minutes=1))

    # When an operator looks
    status, found = health_json(client)

    # Then every probe passes
    assert status == 200, found
    assert set(found.values()) == {"OK"}


def test_health_fails_when_beat_has_not_ticked_for_too_long(client, settings) -> None:
    settings.NOJACKAL_HEALTH_BEAT_MAX_AGE_SECONDS = 300
    beat_ticked(dt.timedelta(minutes=20))
    status, found = health_json(client)
    assert status == 500
    assert "Beat's last tick was 20 min ago" in result(found, "beat")


def test_health_names_each_source_without_a_recent_successful_poll(client, settings) -> None:
    # Given one source that last polled successfully three hours ago, one that never did,
    # one that polled just now, and a disabled one
    settings.NOJACKAL_HEALTH_POLL_MAX_AGE_SECONDS = 3600
    beat_ticked(dt.timedelta(seconds=10))
    stale = SourceFactory(name="stale", last_success_at=timezone.now() - dt.timedelta(hours=3))
    never = SourceFactory(name="never")
    Source.objects.filter(pk=never.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))
    SourceFactory(name="fresh", last_success_at=timezone.now())
    SourceFactory(name="off", enabled=False)

    status, found = health_json(client)

    assert status == 500
    text = result(found, "source_polls")
    assert f"source {stale.pk} (sandbox, stale): 3 h" in text
    assert f"source {never.pk} (sandbox, never): 2 h (never)" in text
    assert "fresh" not in text
    assert "off" not in text


def test_health_reports_the_outbox_backlog_and_its_oldest_due_row(
    client, settings, due_action
) -> None:
    settings.NOJACKAL_HEALTH_OUTBOX_MAX_DELAY_SECONDS = 900
    beat_ticked(dt.timedelta(seconds=10))
    due_action(dt.timedelta(hours=1))
    due_action(dt.timedelta(minutes=2))
    status, found = health_json(client)
    assert status == 500
    assert "2 outbox row(s) due; the oldest has waited 60 min" in result(found, "outbox")


def test_health_page_is_html_without_scripts_under_the_content_security_policy(client) -> None:
    response = client.get("/health/", HTTP_ACCEPT="text/html")
    body = response.content.decode()
    assert "<table" in body
    assert "<script" not in body
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_metrics_are_off_by_default(client) -> None:
    assert client.get("/metrics/").status_code == 404


def test_metrics_report_sources_cases_outbox_and_broker_without_reading_posts(
    client, settings, due_action
) -> None:
    # Given metrics on, a source with posts, a case and an overdue outbox row
    settings.NOJACKAL_METRICS = True
    source = SourceFactory(posts_ingested=42, last_success_at=timezone.now())
    action = due_action(dt.timedelta(minutes=5))

    # When Prometheus scrapes
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/metrics/")

    # Then the figures are there, and no query touched the posts table
    body = response.content.decode()
    assert response.status_code == 200
    assert f'nojackal_posts_ingested_total{{source="{source.pk}:sandbox"}} 42.0' in body
    assert f'nojackal_source_last_success_age_seconds{{source="{source.pk}:sandbox"}}' in body
    assert 'nojackal_cases{stage="approved"} 1.0' in body
    assert 'nojackal_outbox_actions{kind="reply",state="pending"} 1.0' in body
    assert "nojackal_outbox_oldest_due_age_seconds 3" in body  # about 300 s
    assert "nojackal_broker_up 1.0" in body
    assert 'nojackal_detections_recent{verdict="complaint"}' in body
    assert action.state == "pending"
    assert not [q["sql"] for q in queries.captured_queries if '"monitoring_post"' in q["sql"]]


def test_metrics_ask_for_the_token_when_one_is_set(client, settings) -> None:
    settings.NOJACKAL_METRICS = True
    settings.NOJACKAL_METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics/").status_code == 401
    assert client.get("/metrics/", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics/", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200


def run_doctor() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("doctor", stdout=out)
    except SystemExit as stop:
        return int(stop.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_doctor_names_credentials_the_key_cannot_decrypt(secrets_key, settings) -> None:
    # Given a source whose credentials were written with a key since replaced
    source = SourceFactory()
    source.set_credentials({"token": "s3cr3t"})
    source.save()
    from cryptography.fernet import Fernet

    settings.NOJACKAL_SECRETS_KEY = Fernet.generate_key().decode()

    # When the doctor checks the install
    code, output = run_doctor()

    # Then it fails on them and says how to fix it, without showing the secret
    assert code == 1
    assert "FAIL  credentials: Stored credentials that NOJACKAL_SECRETS_KEY cannot" in output
    assert f"cannot decrypt: source {source.pk}." in output
    assert "put the key they were written with back" in output
    assert "s3cr3t" not in output


def test_doctor_says_ok_for_what_works_and_how_to_fix_the_rest(secrets_key) -> None:
    # Given a healthy database and broker, readable credentials, no worker and no beat
    source = SourceFactory()
    source.set_credentials({"token": "fine"})
    source.save()

    code, output = run_doctor()

    assert "ok    database: postgresql answers" in output
    assert "ok    migrations: all applied" in output
    assert "ok    credentials: 1 stored credential(s) decrypt" in output
    assert "ok    broker:" in output
    assert "FAIL  beat: Beat has not sent any tick yet." in output
    assert "fix: start exactly one beat" in output
    assert code == 1


def test_static_files_not_collected_are_named_with_the_command_to_run(
    settings, tmp_path: Path
) -> None:
    # Given production's manifest storage and an empty STATIC_ROOT
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    from config.health import Problem

    with pytest.raises(Problem) as problem:
        check_static_files()
    assert "python manage.py collectstatic --noinput" in str(problem.value)

    # When a manifest is there, Then the check passes
    (tmp_path / "staticfiles.json").write_text(
        json.dumps({"version": "1.1", "paths": {"admin/css/base.css": "admin/css/base.1.css"}})
    )
    settings.STORAGES = dict(settings.STORAGES)  # a new storage reads the manifest, as a restart
    assert check_static_files() == f"collected in {tmp_path}"


def test_production_web_process_refuses_to_start_without_collected_static_files(
    tmp_path: Path,
) -> None:
    # Given production settings and a STATIC_ROOT that collectstatic never filled
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(production_env(STATIC_ROOT=str(tmp_path / "static")))
    env["DATABASE_URL"] = os.environ["DATABASE_URL"]

    # When the WSGI application is loaded (gunicorn, runserver)
    done = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    # Then it stops at once and says what to run
    assert done.returncode != 0
    assert "collectstatic --noinput" in done.stderr


def test_doctor_runs_in_a_fresh_process_with_production_settings() -> None:
    done = run_manage("doctor", **production_env(NOJACKAL_ALERT_EMAILS="ops@example.com"))
    assert "ok    configuration: production settings" in done.stdout, done.stderr
    assert "FAIL  static files:" in done.stdout


def test_a_worker_times_each_task_and_counts_its_outcome() -> None:
    # Given the handlers a worker connects to Celery's task_prerun and task_postrun
    from prometheus_client import REGISTRY

    from config.metrics import task_finished, task_started
    from monitoring.tasks import poll_due_sources

    labels = {"task": poll_due_sources.name}
    before = REGISTRY.get_sample_value("nojackal_task_duration_seconds_count", labels) or 0
    runs = {**labels, "state": "SUCCESS"}
    runs_before = REGISTRY.get_sample_value("nojackal_task_runs_total", runs) or 0

    # When a task starts and ends
    task_started(task_id="t-1", task=poll_due_sources)
    task_finished(task_id="t-1", task=poll_due_sources, state="SUCCESS")

    # Then one duration and one successful run are recorded under its name
    assert REGISTRY.get_sample_value("nojackal_task_duration_seconds_count", labels) == before + 1
    assert REGISTRY.get_sample_value("nojackal_task_runs_total", runs) == runs_before + 1
