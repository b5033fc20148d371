"""Indexes that answer the caps, the dispatcher's spacing and engagement matching with
one index range whatever the size of the outbox (issue #15).

Built CONCURRENTLY on PostgreSQL (no write lock on the outbox while they build;
hence ``atomic = False``) and plainly on SQLite. Only indexes: the outbox table
is not rebuilt on SQLite, so its triggers (migration 0008) stay.
"""

from django.db import migrations, models

from monitoring.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("outreach", "0018_case_days"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="outboundaction",
            index=models.Index(
                condition=models.Q(("state", "sent")),
                fields=["account", "sent_at"],
                name="action_account_sent",
            ),
        ),
        AddIndexConcurrently(
            model_name="outboundaction",
            index=models.Index(
                condition=models.Q(("kind", "reply"), ("state", "sent")),
                fields=["sent_at"],
                name="action_reply_sent",
            ),
        ),
        AddIndexConcurrently(
            model_name="outboundaction",
            index=models.Index(
                condition=models.Q(("kind", "reply")),
                fields=["created_at"],
                name="action_reply_created",
            ),
        ),
        AddIndexConcurrently(
            model_name="outboundaction",
            index=models.Index(fields=["account", "not_before"], name="action_account_slot"),
        ),
        AddIndexConcurrently(
            model_name="outboundaction",
            index=models.Index(
                condition=models.Q(("state", "sent")),
                fields=["external_id"],
                name="action_sent_external",
            ),
        ),
    ]
