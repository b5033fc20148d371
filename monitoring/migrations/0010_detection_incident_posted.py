"""One incident's latest complaints by an index, built without locking (issue #15).

The incident page shows the newest few of its complaints and the detection list
filtered to one incident is newest first; both sorted every complaint of the
incident (7,500 for the biggest at 1M posts).
"""

from django.db import migrations, models

from monitoring.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("monitoring", "0009_search_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="detection",
            index=models.Index(
                fields=["incident", "posted_at", "id"], name="detection_incident_posted"
            ),
        ),
    ]
