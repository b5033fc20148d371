"""The dashboard's rows of ``bench/scale.py`` (issue #16): the admin's home and the
dashboard for a week and for its default four weeks, and one panel's CSV, as the demo admin.

The scale data is loaded by COPY behind the pipeline's back, so the per-brand per-day
counters (``monitoring.BrandDay``, kept by triage as posts are judged) are recounted once
here before timing, as the migrations that add them do on an upgrade; so are the cases'
per-day steps (``outreach.CaseDay``, kept by the workflow's audit trail).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from bench.scale_data import Measured, measured


def pages() -> list[tuple[str, str]]:
    from django.utils import timezone

    today = timezone.now().astimezone(dt.UTC).date()
    week = {"start": (today - dt.timedelta(days=6)).isoformat(), "end": today.isoformat()}
    return [
        ("dashboard: admin home", "/admin/"),
        ("dashboard: 4 weeks", "/admin/dashboard/"),
        ("dashboard: 1 week", "/admin/dashboard/?" + urlencode(week)),
        ("dashboard: funnel CSV", "/admin/dashboard/?export=funnel"),
    ]


def measure(size: int) -> list[Measured]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from monitoring import rollups
    from monitoring.models import BrandDay
    from outreach import rollups as case_rollups
    from outreach.models import CaseDay

    if not BrandDay.objects.exists():
        rollups.rebuild_brand_days()
    if not CaseDay.objects.exists():
        case_rollups.rebuild()
    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    results = []
    for name, url in pages():

        def get(url: str = url) -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise AssertionError(f"{url}: {response.status_code}")

        results.append(measured(name, get))
    return results
