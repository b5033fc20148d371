"""The dashboard's two partial indexes on cases (issue #16): open cases per member of staff,
and a period's cases in an incident. Built CONCURRENTLY on PostgreSQL (no write lock on
the case table while they build; hence ``atomic = False``), plainly on SQLite.
"""

from django.db import migrations, models

from monitoring.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("outreach", "0020_staff_days"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    (
                        "stage__in",
                        (
                            "new",
                            "researching",
                            "drafting",
                            "awaiting_approval",
                            "approved",
                            "awaiting_engagement",
                            "engaged",
                            "follow_requested",
                            "followed",
                        ),
                    )
                ),
                fields=["assignee", "stage"],
                name="case_open_assignee",
            ),
        ),
        AddIndexConcurrently(
            model_name="case",
            index=models.Index(
                condition=models.Q(("incident__isnull", False)),
                fields=["opened_at"],
                name="case_in_incident_opened",
            ),
        ),
    ]
