"""Counters kept as things happen, in one statement whether or not the row exists yet.

``add(Model, keys, increments)`` is ``INSERT ... ON CONFLICT (keys) DO UPDATE SET
col = col + excluded.col``: PostgreSQL and SQLite (3.24 and newer) share the syntax.
One statement means the same cost for the first count of a day as for the
thousandth (the pipeline's query counts stay flat), and no race between two
workers creating the same row. ``keys`` must be the columns of a unique constraint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection, models


def add(model: type[models.Model], keys: Mapping[str, Any], increments: Mapping[str, int]) -> None:
    """Add ``increments`` to the row of ``model`` with ``keys``, creating it at those values."""
    meta = model._meta
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return meta.get_field(name).column  # "brand" -> "brand_id"

    names = [*keys, *increments]
    fields = [meta.get_field(n) for n in names]
    values = [
        f.get_db_prep_save(v, connection)
        for f, v in zip(fields, [*keys.values(), *increments.values()], strict=True)
    ]
    table = quote(meta.db_table)
    sets = ", ".join(
        f"{quote(column(n))} = {table}.{quote(column(n))} + excluded.{quote(column(n))}"
        for n in increments
    )
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(column(n)) for n in names)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(names))}) "
        f"ON CONFLICT ({', '.join(quote(column(n)) for n in keys)}) DO UPDATE SET {sets}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
