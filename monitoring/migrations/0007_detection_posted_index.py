"""The detection list's order (newest first) by an index, built without locking (issue #15)."""

from django.db import migrations, models

from monitoring.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("monitoring", "0006_account_limits"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="detection",
            index=models.Index(fields=["posted_at", "id"], name="detection_posted"),
        ),
    ]
