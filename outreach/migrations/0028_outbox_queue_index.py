"""A partial index of each account's queue, its pending and sending rows (issue #15): the
drain's next row of an account is found without walking the account's sent history,
which ``action_account_slot`` holds as well. Built CONCURRENTLY on PostgreSQL (no write
lock on the outbox while it builds; hence ``atomic = False``), plainly on SQLite.
"""

from django.db import migrations, models

from monitoring.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("outreach", "0027_case_incident_open"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="outboundaction",
            index=models.Index(
                condition=models.Q(("state__in", ["pending", "sending"])),
                fields=["account", "not_before"],
                name="action_account_queue",
            ),
        ),
    ]
