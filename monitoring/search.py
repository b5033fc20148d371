"""Admin searches that an index answers (issue #15).

Django's admin search ORs ``icontains`` over every search field, joined tables
included: ``UPPER(post.text) LIKE '%x%' OR UPPER(person.handle) LIKE '%x%'``. An
OR across two tables cannot use an index on either, so PostgreSQL scans
everything. Here every arm of the OR is a condition on the listed table itself:

- text and handles: ``icontains`` (``UPPER(col) LIKE UPPER('%x%')``), served on
  PostgreSQL by the GIN trigram indexes of ``monitoring.migration_ops.AddTrigramIndex``;
- a row of another table (the post's author by handle): ``fk = ANY(ARRAY(subquery))``
  on PostgreSQL, an index condition on the foreign key that combines with the
  others in one bitmap OR; ``fk IN (subquery)`` on SQLite;
- ids: exact lookups (an integer id as an integer, an external id with its
  platform so the unique index answers).

SQLite has no trigram index; there the same conditions are plain scans.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.models import BooleanField, Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.text import smart_split, unescape_string_literal

from monitoring.platforms import REGISTRY


def terms(search_term: str) -> list[str]:
    """The words of a search, as the admin splits them (quoted phrases stay whole)."""
    found = []
    for bit in smart_split(search_term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        if bit:
            found.append(bit)
    return found


def column_in(model: type[Model], column: str, subquery: QuerySet[Any]) -> Q:
    """``model``'s ``column`` is one of the values ``subquery`` selects. ``model`` is the
    listed table or one joined once (Django names a table joined once after itself)."""
    sql, params = subquery.order_by().query.sql_with_params()  # order means nothing here
    connection = connections[subquery.db]
    quote = connection.ops.quote_name
    qualified = f"{quote(model._meta.db_table)}.{quote(column)}"
    if connection.vendor == "postgresql":
        expression = f"{qualified} = ANY(ARRAY({sql}))"
    else:
        expression = f"{qualified} IN ({sql})"
    # Quoted names and a query Django compiled; its values stay parameters.
    return Q(RawSQL(expression, params, output_field=BooleanField()))  # noqa: S611


def external_id_is(term: str) -> Q:
    """An exact external id on any platform (the per-platform unique index answers)."""
    return Q(platform__in=list(REGISTRY), external_id=term)


def each_term(
    queryset: QuerySet[Any], search_term: str, condition: Any
) -> tuple[QuerySet[Any], bool]:
    """``queryset`` narrowed by ``condition(term)`` for every word (all must match), as
    ``ModelAdmin.get_search_results`` returns it (never duplicates)."""
    for term in terms(search_term):
        queryset = queryset.filter(condition(term))
    return queryset, False
