"""The queue's partial indexes on open cases, for the stages of issue #13 (follow requested).

Built with ``CREATE INDEX CONCURRENTLY`` on PostgreSQL (``monitoring.migration_ops``),
so the case table takes writes while they build; plain indexes on SQLite. The old ones
are dropped first: until the new ones are built the queue reads without them.
"""

from django.db import migrations, models

from monitoring.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("outreach", "0015_conversation_rules")]

    operations = [
        migrations.RemoveIndex(
            model_name="case",
            name="case_queue_open",
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="case_open_stage",
        ),
        AddIndexConcurrently(
            model_name="case",
            index=models.Index(
                models.OrderBy(models.F("due_at")),
                models.OrderBy(models.F("severity"), descending=True),
                models.OrderBy(models.F("id")),
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
                name="case_queue_open",
            ),
        ),
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
                fields=["stage"],
                name="case_open_stage",
            ),
        ),
    ]
