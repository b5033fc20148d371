"""Indexes on big tables are built without locking writes (issue #15): CREATE INDEX
CONCURRENTLY on PostgreSQL, outside a transaction, in every migration that adds one."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, models
from django.db.migrations.state import ProjectState

from monitoring.migration_ops import AddIndexConcurrently, AddTrigramIndex

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = sorted(
    [*REPO.glob("monitoring/migrations/0*.py"), *REPO.glob("outreach/migrations/0*.py")]
)


def sql_of(app: str, name: str) -> str:
    out = io.StringIO()
    call_command("sqlmigrate", app, name, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_new_indexes_are_built_concurrently_on_postgresql() -> None:
    search = sql_of("monitoring", "0012_search_indexes")
    queue = sql_of("outreach", "0013_queue_indexes")
    assert "Creates extension pg_trgm" in search
    for name in (
        "post_text_trgm",
        "person_handle_trgm",
        "person_display_name_trgm",
        "person_handle_upper",
        "detection_corrected",
    ):
        assert re.search(rf'CREATE INDEX CONCURRENTLY "{name}"', search), name
    assert 'USING gin (UPPER("text") gin_trgm_ops)' in search
    for name in ("case_incident_queue", "engagement_occurred"):
        assert re.search(rf'CREATE INDEX CONCURRENTLY "{name}"', queue), name
    # A half-built (INVALID) index of an interrupted run is dropped first.
    assert 'DROP INDEX CONCURRENTLY IF EXISTS "post_text_trgm"' in search
    assert "BEGIN;" not in search + queue  # not atomic: CONCURRENTLY refuses a transaction


@pytest.mark.django_db
def test_a_concurrent_index_refuses_to_run_inside_a_transaction() -> None:
    index = models.Index(fields=["posted_at"], name="never_built")
    state = ProjectState.from_apps(apps)
    for operation in (
        AddIndexConcurrently(model_name="detection", index=index),
        AddTrigramIndex(table="monitoring_post", column="text", name="never_built"),
    ):
        with connection.schema_editor(atomic=False) as editor:
            assert connection.in_atomic_block  # the test's own transaction
            with pytest.raises(RuntimeError, match="atomic = False"):
                operation.database_forwards("monitoring", editor, state, state)


def test_every_index_added_by_a_migration_since_issue_15_is_built_concurrently() -> None:
    """A plain AddIndex on a table that grows with history would lock it during the build."""
    first = {"monitoring": 10, "outreach": 13}  # the first migrations of issue #15
    newer = [path for path in MIGRATIONS if int(path.name[:4]) >= first[path.parent.parent.name]]
    assert newer
    for path in newer:
        text = path.read_text()
        assert "migrations.AddIndex(" not in text, path.name
        if "Concurrently" in text or "AddTrigramIndex" in text:
            assert "atomic = False" in text, path.name


@pytest.mark.django_db
def test_the_people_search_indexes_keep_no_pending_list() -> None:
    """New people's trigrams go into the index at once: a search never reads a pending list
    that grows until a vacuum (monitoring 0021)."""
    if connection.vendor != "postgresql":
        pytest.skip("GIN indexes are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)",
            [["person_handle_trgm", "person_display_name_trgm", "post_text_trgm"]],
        )
        options = dict(cursor.fetchall())
    assert options["person_handle_trgm"] == ["fastupdate=off"]
    assert options["person_display_name_trgm"] == ["fastupdate=off"]
    assert options["post_text_trgm"] is None  # the detection queue rewrites new posts' rows


@pytest.mark.django_db(transaction=True)
def test_turning_the_pending_list_off_is_a_short_lock_and_can_be_undone() -> None:
    sql = sql_of("monitoring", "0021_person_search_without_pending_list")
    assert "SET lock_timeout = '5s'" in sql
    assert 'ALTER INDEX "person_handle_trgm" SET (fastupdate = off)' in sql
    assert "gin_clean_pending_list" in sql
    assert "BEGIN;" not in sql
    backwards = io.StringIO()
    call_command(
        "sqlmigrate",
        "monitoring",
        "0021_person_search_without_pending_list",
        backwards=True,
        stdout=backwards,
    )
    assert 'ALTER INDEX "person_handle_trgm" SET (fastupdate = on)' in backwards.getvalue()
