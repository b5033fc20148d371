"""Migration operations shared by the apps' migrations.

Placeholder until the shared concurrent-index operation lands (issue #15): an
index built CONCURRENTLY on PostgreSQL, so that adding it never locks the table
against writes, and plainly on SQLite. A migration using it sets
``atomic = False`` (PostgreSQL refuses CREATE INDEX CONCURRENTLY in a transaction).
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import (
    AddIndexConcurrently as PostgresAddIndexConcurrently,
)
from django.db import migrations


class AddIndexConcurrently(PostgresAddIndexConcurrently):
    """``AddIndexConcurrently`` on PostgreSQL, ``AddIndex`` elsewhere."""

    def database_forwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, *args)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, *args)

    def database_backwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, *args)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, *args)
