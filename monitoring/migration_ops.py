"""Migration operations that add indexes without locking a big table (issue #15).

``CREATE INDEX`` takes a lock that blocks every write to the table until the
index is built: minutes on a table of millions of posts, during which listening
and the dispatcher stall. On PostgreSQL these operations build with
``CREATE INDEX CONCURRENTLY`` instead (writes go on; the build takes longer).
PostgreSQL refuses that inside a transaction, so a migration using them sets
``atomic = False`` and holds nothing else that needs one.

- ``AddIndexConcurrently(model_name, index)``: an index of the model's
  ``Meta.indexes`` (``makemigrations`` writes ``AddIndex``; replace it by this).
  On SQLite (the laptop default) it is a plain ``CREATE INDEX``.
- ``AddTrigramIndex(table, column, name)``: a GIN trigram index
  (``pg_trgm``, ``gin_trgm_ops``) on ``UPPER(column)``, which serves the admin's
  ``icontains`` searches (Django compiles them to ``UPPER(col) LIKE UPPER(%s)``).
  PostgreSQL only, and not part of the model state (SQLite has no GIN and
  searches with a plain scan); the migration enables the extension first with
  ``django.contrib.postgres.operations.TrigramExtension``.

- ``TrigramFastUpdateOff(name)``: a trigram index without GIN's pending list
  (``fastupdate = off``), emptied once (``gin_clean_pending_list``). With the list,
  new rows' trigrams wait in an unsorted list that every search reads whole until
  a vacuum merges it, and autovacuum comes after a share of the table's rows
  (20 %): on a long history the list grows to its 4 MB limit, read by each search.
  A catalogue change: a lock held for an instant (``lock_timeout`` bounds the wait
  behind a long query). PostgreSQL only.

If a concurrent build fails (a deadlock, a cancelled statement), PostgreSQL
leaves an INVALID index behind; these operations drop an index of that name
first, so running ``migrate`` again finishes the job.
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations import AddIndex
from django.db.migrations.operations.base import Operation


def _is_postgresql(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


def _refuse_transaction(schema_editor: Any) -> None:
    if schema_editor.connection.in_atomic_block:
        raise RuntimeError(
            "CREATE INDEX CONCURRENTLY cannot run in a transaction: set atomic = False"
            " on the migration"
        )


class AddIndexConcurrently(AddIndex):
    """``AddIndex``, built with ``CREATE INDEX CONCURRENTLY`` on PostgreSQL."""

    atomic = False

    def describe(self) -> str:
        return f"Concurrently create index {self.index.name} on {self.model_name}"

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if not _is_postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        _refuse_transaction(schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.execute(
                f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(self.index.name)}"
            )
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if not _is_postgresql(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        _refuse_transaction(schema_editor)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)


class AddTrigramIndex(Operation):
    """A GIN trigram index on ``UPPER(column)``, concurrently, on PostgreSQL only."""

    reversible = True
    atomic = False
    reduces_to_sql = True

    def __init__(self, table: str, column: str, name: str) -> None:
        self.table = table
        self.column = column
        self.name = name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            self.__class__.__qualname__,
            [],
            {"table": self.table, "column": self.column, "name": self.name},
        )

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass  # not in the model state: SQLite has no such index

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if not _is_postgresql(schema_editor):
            return
        _refuse_transaction(schema_editor)
        q = schema_editor.quote_name
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {q(self.name)}")
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY {q(self.name)} ON {q(self.table)}"
            f" USING gin (UPPER({q(self.column)}) gin_trgm_ops)"
        )

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if not _is_postgresql(schema_editor):
            return
        _refuse_transaction(schema_editor)
        schema_editor.execute(
            f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(self.name)}"
        )

    def describe(self) -> str:
        return f"Concurrently create trigram index {self.name} on {self.table}.{self.column}"


class TrigramFastUpdateOff(Operation):
    """A GIN index without its pending list (``fastupdate = off``), the list merged
    once, on PostgreSQL only (SQLite has no such index)."""

    reversible = True
    atomic = False
    reduces_to_sql = True

    def __init__(self, name: str) -> None:
        self.name = name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [], {"name": self.name})

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass  # the index is not in the model state (AddTrigramIndex)

    def _set(self, schema_editor: Any, fastupdate: str) -> None:
        q = schema_editor.quote_name
        # ALTER INDEX ... SET (fastupdate) takes an exclusive lock for an instant; waiting
        # behind a long query would queue every write behind it: give up instead (run
        # migrate again).
        schema_editor.execute("SET lock_timeout = '5s'")
        try:
            schema_editor.execute(f"ALTER INDEX {q(self.name)} SET (fastupdate = {fastupdate})")
        finally:
            schema_editor.execute("RESET lock_timeout")

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if not _is_postgresql(schema_editor):
            return
        self._set(schema_editor, "off")
        # What the list holds already goes into the index now, not at the next vacuum.
        schema_editor.execute("SELECT gin_clean_pending_list(%s::regclass)", [self.name])

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if _is_postgresql(schema_editor):
            self._set(schema_editor, "on")

    def describe(self) -> str:
        return f"Turn off the pending list of GIN index {self.name}"
