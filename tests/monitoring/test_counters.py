"""Counters kept in one statement (monitoring/counters.py): a batch's counts cost one query."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring import counters
from monitoring.models import BrandDay
from tests.factories import BrandFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 30)


def counts() -> dict[tuple[int, dt.date], tuple[int, int]]:
    return {
        (row.brand_id, row.day): (row.mentions, row.complaints) for row in BrandDay.objects.all()
    }


def test_a_batch_of_counts_creates_and_adds_to_rows_in_one_statement() -> None:
    a, b = BrandFactory(), BrandFactory()
    counters.add(BrandDay, {"brand": a.pk, "day": DAY}, {"mentions": 2, "complaints": 1})
    with CaptureQueriesContext(connection) as queries:
        counters.add_all(
            BrandDay,
            [
                ({"brand": a.pk, "day": DAY}, {"mentions": 1, "complaints": 0}),
                ({"brand": b.pk, "day": DAY}, {"mentions": 3, "complaints": 2}),
                # The same row twice in one batch: summed, not a second update.
                ({"brand": a.pk, "day": DAY}, {"mentions": 1, "complaints": 1}),
                (
                    {"brand": a.pk, "day": DAY + dt.timedelta(days=1)},
                    {"mentions": 1, "complaints": 1},
                ),
            ],
        )
    assert len(queries) == 1
    assert counts() == {
        (a.pk, DAY): (4, 2),
        (b.pk, DAY): (3, 2),
        (a.pk, DAY + dt.timedelta(days=1)): (1, 1),
    }


def test_an_empty_batch_writes_nothing() -> None:
    with CaptureQueriesContext(connection) as queries:
        counters.add_all(BrandDay, [])
    assert len(queries) == 0
    assert not BrandDay.objects.exists()


def test_rows_naming_different_fields_are_refused() -> None:
    brand = BrandFactory()
    with pytest.raises(ValueError, match="same keys and increments"):
        counters.add_all(
            BrandDay,
            [
                ({"brand": brand.pk, "day": DAY}, {"mentions": 1}),
                ({"brand": brand.pk, "day": DAY}, {"complaints": 1}),
            ],
        )
    assert not BrandDay.objects.exists()
