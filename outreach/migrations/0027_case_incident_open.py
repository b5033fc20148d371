"""A partial index of one incident's open cases per stage (issue #15): the incident page
counts them without walking the incident's closed cases. Built CONCURRENTLY on
PostgreSQL (no write lock on the case table while it builds; hence ``atomic = False``),
plainly on SQLite.
"""

from django.db import migrations, models

from monitoring.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("outreach", "0026_overrule_rules"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="case",
            index=models.Index(
                condition=models.Q(("closed_at__isnull", True)),
                fields=["incident", "stage"],
                name="case_incident_open",
            ),
        ),
    ]
