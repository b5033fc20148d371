"""Counters kept as posts are judged, so pages never count the posts themselves.

``count_detections`` adds one batch of new detections to ``BrandDay`` (mentions per
brand named, complaints per main brand); ``rebuild_brand_days`` recounts them from
the detections, for an upgrade or a history loaded behind the pipeline's back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from monitoring import counters
from monitoring.models import BrandDay, Detection


def count_detections(
    judged: Iterable[tuple[dt.datetime, int | None, bool, Iterable[int]]],
) -> None:
    """Count (posted_at, main brand, complaint, brands named) of new detections (one
    statement for the batch, whatever brands and days it touches)."""
    mentions: Counter[tuple[int, dt.date]] = Counter()
    complaints: Counter[tuple[int, dt.date]] = Counter()
    for posted_at, brand_id, complaint, named in judged:
        day = posted_at.astimezone(dt.UTC).date()
        for named_id in set(named):
            mentions[(named_id, day)] += 1
        if complaint and brand_id is not None:
            complaints[(brand_id, day)] += 1
    counters.add_all(
        BrandDay,
        (
            (
                {"brand": key[0], "day": key[1]},
                {"mentions": mentions[key], "complaints": complaints[key]},
            )
            for key in set(mentions) | set(complaints)
        ),
    )


def rebuild_brand_days() -> int:
    """Recount every brand's days from the detections (slow: once, at an upgrade)."""
    with transaction.atomic():
        BrandDay.objects.all().delete()
        named = (
            Detection.brands.through.objects.annotate(day=TruncDate("detection__posted_at"))
            .values("brand_id", "day")
            .annotate(n=Count("id"))
        )
        rows: dict[tuple[int, dt.date], BrandDay] = {}
        for row in named:
            rows[(row["brand_id"], row["day"])] = BrandDay(
                brand_id=row["brand_id"], day=row["day"], mentions=row["n"]
            )
        main = (
            Detection.objects.filter(Q(complaint=True) & Q(brand__isnull=False))
            .annotate(day=TruncDate("posted_at"))
            .values("brand_id", "day")
            .annotate(n=Count("id"))
        )
        for row in main:
            key = (row["brand_id"], row["day"])
            rows.setdefault(key, BrandDay(brand_id=key[0], day=key[1])).complaints = row["n"]
        BrandDay.objects.bulk_create(rows.values(), batch_size=2000)
    return len(rows)
