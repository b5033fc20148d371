"""The label queue's index (issue #17): one brand's uncorrected verdicts of one model version
by score, so the queue walks outwards from the threshold instead of scanning the table. Built
CONCURRENTLY on PostgreSQL (no write lock on the detections; hence ``atomic = False``)."""

from django.db import migrations, models

from monitoring.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("monitoring", "0016_team_labels"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="detection",
            index=models.Index(
                condition=models.Q(("correction", "")),
                fields=["model_version", "brand", "score"],
                name="detection_label_queue",
            ),
        ),
    ]
