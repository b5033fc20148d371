"""Counters kept as things happen, in one statement whether or not the row exists yet.

``add(Model, keys, increments)`` is ``INSERT ... ON CONFLICT (keys) DO UPDATE SET
col = col + excluded.col``: PostgreSQL and SQLite (3.24 and newer) share the syntax.
One statement means the same cost for the first count of a day as for the
thousandth (the pipeline's query counts stay flat), and no race between two
workers creating the same row; ``add_all`` writes a whole batch's counts in one
statement, so a batch costs one query however many rows it touches. ``keys`` must
be the columns of a unique constraint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, models


def add(model: type[models.Model], keys: Mapping[str, Any], increments: Mapping[str, int]) -> None:
    """Add ``increments`` to the row of ``model`` with ``keys``, creating it at those values."""
    add_all(model, [(keys, increments)])


def add_all(
    model: type[models.Model],
    rows: Iterable[tuple[Mapping[str, Any], Mapping[str, int]]],
) -> None:
    """``add`` for many rows in one statement (a batch's counts: one query, however many
    rows). Every row names the same key and increment fields; rows with equal keys are
    summed first (one statement may not update a row twice)."""
    summed: dict[tuple[Any, ...], list[int]] = {}
    key_names: tuple[str, ...] = ()
    increment_names: tuple[str, ...] = ()
    for keys, increments in rows:
        if not key_names:
            key_names, increment_names = tuple(keys), tuple(increments)
        if set(keys) != set(key_names) or set(increments) != set(increment_names):
            raise ValueError("every row must name the same keys and increments")
        key = tuple(keys[name] for name in key_names)
        total = summed.setdefault(key, [0] * len(increment_names))
        for i, name in enumerate(increment_names):
            total[i] += increments[name]
    if not summed:
        return
    meta = model._meta
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return meta.get_field(name).column  # "brand" -> "brand_id"

    names = [*key_names, *increment_names]
    fields = [meta.get_field(n) for n in names]
    values = [
        f.get_db_prep_save(v, connection)
        # Sorted: concurrent batches lock the rows they share in the same order.
        for key in sorted(summed)
        for f, v in zip(fields, [*key, *summed[key]], strict=True)
    ]
    table = quote(meta.db_table)
    sets = ", ".join(
        f"{quote(column(n))} = {table}.{quote(column(n))} + excluded.{quote(column(n))}"
        for n in increment_names
    )
    row = f"({', '.join(['%s'] * len(names))})"
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(column(n)) for n in names)}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(summed))} "
        f"ON CONFLICT ({', '.join(quote(column(n)) for n in key_names)}) DO UPDATE SET {sets}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
