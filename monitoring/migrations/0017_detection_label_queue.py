"""The label queue's indexes (issue #17): one brand's uncorrected verdicts of one model version
by score (and the same for the posts naming no brand: PostgreSQL walks no index in order past
an IS NULL column), so the queue walks outwards from the threshold instead of sorting. Built
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
        AddIndexConcurrently(
            model_name="detection",
            index=models.Index(
                condition=models.Q(("brand__isnull", True), ("correction", "")),
                fields=["model_version", "score"],
                name="detection_label_queue_nobrand",
            ),
        ),
    ]
