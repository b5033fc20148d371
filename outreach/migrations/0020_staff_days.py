"""Time to first reply and time in each working stage, in bins of hours, and replied cases per
incident (issue #16).

The dashboard read these from the case events of the period, a cost that grew with the
period's cases; the audit trail now counts them as cases move (``outreach/rollups.py``).
This migration counts the history once, with the bins as they were written here.
"""

import bisect
import datetime as dt
from collections import Counter

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

WORK_STAGES = ("new", "researching", "drafting", "awaiting_approval")
HOUR_EDGES = (*(q / 4 for q in range(1, 17)), *range(5, 49), *range(60, 169, 12))


def hour_bin(since, until):
    return bisect.bisect_left(HOUR_EDGES, max(0.0, (until - since).total_seconds() / 3600))


def count_history(apps, schema_editor):
    """Walk every stage change in order of case and time, as outreach.rollups.count_times."""
    from django.db.models import F

    CaseEvent = apps.get_model("outreach", "CaseEvent")
    CaseDay = apps.get_model("outreach", "CaseDay")
    StaffDay = apps.get_model("outreach", "StaffDay")
    replies, staff = Counter(), Counter()
    current, entered, replied = None, {}, False
    changes = (
        CaseEvent.objects.exclude(origin=F("target"))
        .exclude(action="open_case")
        .order_by("case_id", "created_at", "pk")
        .values_list(
            "case_id",
            "case__opened_at",
            "case__brand_id",
            "case__kind",
            "case__assignee_id",
            "case__incident_id",
            "origin",
            "target",
            "actor_id",
            "created_at",
        )
    )
    for case_id, opened, brand, kind, assignee, incident, origin, target, actor, at in changes.iterator(
        chunk_size=5000
    ):
        if case_id != current:
            current, entered, replied = case_id, {}, False
        day = opened.astimezone(dt.UTC).date()
        if origin in WORK_STAGES and (assignee or actor):
            staff[
                (day, assignee or actor, brand, origin, hour_bin(entered.get(origin, opened), at))
            ] += 1
        if target == "approved" and actor:
            staff[(day, actor, brand, "approved", 0)] += 1
        if target == "awaiting_engagement" and not replied:
            replied = True
            replies[(day, brand, kind, f"first_reply:{hour_bin(opened, at)}")] += 1
            if incident:
                replies[(day, brand, kind, f"in_incident:{incident}")] += 1
        entered[target] = at
    CaseDay.objects.bulk_create(
        [
            CaseDay(day=d, brand_id=b, kind=k, step=s, count=n)
            for (d, b, k, s), n in replies.items()
        ],
        batch_size=2000,
    )
    StaffDay.objects.bulk_create(
        [
            StaffDay(day=d, user_id=u, brand_id=b, measure=m, bin=i, count=n)
            for (d, u, b, m, i), n in staff.items()
        ],
        batch_size=2000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0015_detection_queue"),
        ("outreach", "0019_outbox_scale_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(help_text="The day the cases were opened (UTC).")),
                (
                    "measure",
                    models.CharField(help_text='"approved" or a working stage.', max_length=30),
                ),
                (
                    "bin",
                    models.PositiveSmallIntegerField(
                        default=0,
                        help_text="The bin of hours spent in the stage (outreach.rollups.HOUR_EDGES).",
                    ),
                ),
                ("count", models.PositiveIntegerField(default=0)),
                (
                    "brand",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="monitoring.brand",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["day", "user", "brand", "measure", "bin"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "user", "brand", "measure", "bin"), name="staff_day_once"
                    )
                ],
            },
        ),
        migrations.RunPython(count_history, migrations.RunPython.noop),
    ]
