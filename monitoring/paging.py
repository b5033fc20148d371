"""Changelist counts that do not scan a table that grows with history (issue #15).

Django's paginator counts every matching row (``COUNT(*)``) on every page view:
a sequential scan of millions of posts or detections. Here:

- ``CappedPaginator`` counts at most ``CAP`` rows (the review queue's rule): the
  count stops early however long the history grows; beyond the cap the list
  shows the first CAP / per_page pages, and filters narrow it.
- ``HistoryPaginator`` does the same, up to ``CAP`` = 1,000 (ten pages: a search for a
  common word matches a sixth of the history, and counting 5,000 of them read 18,500
  posts at a million), for a filtered or searched list, and for
  the unfiltered list of a big table on PostgreSQL reads the planner's estimate
  of the table's rows (``pg_class.reltuples``, kept by autovacuum's ANALYZE):
  one catalogue lookup instead of a scan. The estimate is what the pages say
  ("about"), never used for a decision; a count at the cap shows as "1,000+"
  (``count_label``, in ``admin/pagination.html``).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


def capped_label(count: int, cap: int) -> str:
    """A count taken up to ``cap``, as a page shows it: "1,000+" once it reached the cap."""
    return f"{cap:,}+" if count >= cap else f"{count:,}"


class CappedPaginator(Paginator):
    """Counts at most ``CAP`` rows: the count stays cheap however long the history grows.
    Beyond the cap the list shows the first CAP / per_page pages; filters narrow it."""

    CAP = 5_000
    estimated = False  # the count is the planner's estimate of the table's rows

    @cached_property
    def count(self) -> int:
        # Without the list's order: any CAP matching rows will do, by whichever index finds
        # them first (an order would walk the sort's index until CAP rows matched).
        return self.object_list.order_by()[: self.CAP].count()  # type: ignore[no-any-return]

    @property
    def count_label(self) -> str:
        """The count as the list shows it: exact, "1,000+" at the cap, "about" an estimate."""
        count = self.count  # first: counting is what finds out whether it is an estimate
        return f"about {count:,}" if self.estimated else capped_label(count, self.CAP)


class HistoryPaginator(CappedPaginator):
    """For an unfiltered list on PostgreSQL: the planner's estimate once the table holds
    more than ``CAP`` rows, the exact count below; the capped count for everything else.

    One query either way (the capped count and the estimate side by side), so a page
    makes as many queries at a thousand rows as at a million."""

    CAP = 1_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        connection = connections[queryset.db]  # type: ignore[attr-defined]
        if connection.vendor != "postgresql" or queryset.query.where:  # type: ignore[attr-defined]
            return super().count  # type: ignore[no-any-return]
        capped = queryset.order_by().values("pk")[: self.CAP]  # type: ignore[attr-defined]
        sql, params = capped.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT count(*) FROM ({sql}) capped),"  # noqa: S608 (compiled by Django)
                " (SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s))",
                [*params, queryset.model._meta.db_table],  # type: ignore[attr-defined]
            )
            exact, estimate = cursor.fetchone()
        if exact < self.CAP:
            return int(exact)
        self.estimated = True
        return max(int(estimate or 0), self.CAP)
