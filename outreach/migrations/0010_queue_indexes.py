"""Indexes for the queue and the engagement list, built without locking (issue #15).

- one incident's cases in queue order (the filter linked from the incident page
  walked the whole queue index);
- engagement events newest first (the list sorted the whole table).

Built with CREATE INDEX CONCURRENTLY on PostgreSQL (monitoring/migration_ops.py), so
this migration is not atomic; on SQLite a plain CREATE INDEX (no table rebuild, so
the database rules' triggers stay).
"""

from django.db import migrations, models

from monitoring.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("outreach", "0009_opt_out_append_only"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="case",
            index=models.Index(
                fields=["incident", "due_at", "-severity", "id"], name="case_incident_queue"
            ),
        ),
        AddIndexConcurrently(
            model_name="engagementevent",
            index=models.Index(fields=["occurred_at"], name="engagement_occurred"),
        ),
    ]
