"""Per-hour complaint counts of each incident, kept as complaints join it (issue #15).

The incident page's chart read every detection of the incident (7,500 rows for the
biggest at 1M posts); it now reads at most two weeks of hourly rows. Existing
incidents are counted once here, from their detections.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import TruncHour


def count_existing(apps, schema_editor):
    Detection = apps.get_model("monitoring", "Detection")
    IncidentHour = apps.get_model("monitoring", "IncidentHour")
    rows = (
        Detection.objects.filter(incident__isnull=False)
        .annotate(hour=TruncHour("posted_at"))
        .values("incident_id", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    IncidentHour.objects.bulk_create(
        (IncidentHour(incident_id=r["incident_id"], hour=r["hour"], count=r["n"]) for r in rows),
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0007_detection_posted_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="IncidentHour",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("hour", models.DateTimeField(help_text="The start of the hour (UTC).")),
                ("count", models.PositiveIntegerField(default=0)),
                (
                    "incident",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="hours",
                        to="monitoring.incident",
                    ),
                ),
            ],
            options={
                "ordering": ["incident", "hour"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("incident", "hour"), name="incident_hour_once"
                    )
                ],
            },
        ),
        migrations.RunPython(count_existing, migrations.RunPython.noop),
    ]
