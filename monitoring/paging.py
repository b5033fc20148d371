"""Changelist counts that do not scan a table that grows with history (issue #15).

Django's paginator counts every matching row (``COUNT(*)``) on every page view:
a sequential scan of millions of posts or detections. Here:

- ``CappedPaginator`` counts at most ``CAP`` rows (the review queue's rule): the
  count stops early however long the history grows; beyond the cap the list
  shows the first CAP / per_page pages, and filters narrow it.
- ``HistoryPaginator`` does the same for a filtered or searched list, and for
  the unfiltered list of a big table on PostgreSQL reads the planner's estimate
  of the table's rows (``pg_class.reltuples``, kept by autovacuum's ANALYZE):
  one catalogue lookup instead of a scan. The estimate is what the pages say
  ("about"), never used for a decision.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most ``CAP`` rows: the count stays cheap however long the history grows.
    Beyond the cap the list shows the first CAP / per_page pages; filters narrow it."""

    CAP = 5_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP].count()  # type: ignore[no-any-return]


def estimated_rows(queryset: Any) -> int | None:
    """The planner's row estimate of an unfiltered queryset's table on PostgreSQL, else None."""
    query = queryset.query
    if query.where or query.combinator or query.is_sliced or query.distinct:
        return None
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    # -1: never analysed (a new table); count it, it is small.
    return int(row[0]) if row and row[0] >= 0 else None


class HistoryPaginator(CappedPaginator):
    """The estimate for an unfiltered list (PostgreSQL), the capped count for the rest."""

    @cached_property
    def count(self) -> int:
        estimate = estimated_rows(self.object_list)
        if estimate is not None and estimate >= self.CAP:
            return estimate
        return super().count  # type: ignore[no-any-return]
