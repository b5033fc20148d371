"""The detection queue (``Post.awaiting_detection``, issue #15).

Upgrading a live database: the column is added with a database default of false
(no table rewrite on PostgreSQL), its default then becomes true, and only then are
the posts that still have no Detection put on the queue, so a post stored by an
old worker during the upgrade is queued too. Every index is built CONCURRENTLY on
PostgreSQL (no write lock on the table; hence ``atomic = False``) and plainly on
SQLite.
"""

from django.db import migrations, models

from monitoring.migration_ops import AddIndexConcurrently

QUEUE_UNJUDGED = """
UPDATE monitoring_post SET awaiting_detection = TRUE
WHERE NOT EXISTS (SELECT 1 FROM monitoring_detection d WHERE d.post_id = monitoring_post.id)
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("monitoring", "0014_incident_minutes_brand_days"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="awaiting_detection",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AlterField(
            model_name="post",
            name="awaiting_detection",
            field=models.BooleanField(db_default=True, default=True, editable=False),
        ),
        migrations.RunSQL(QUEUE_UNJUDGED, migrations.RunSQL.noop, elidable=True),
        AddIndexConcurrently(
            model_name="post",
            index=models.Index(
                condition=models.Q(("awaiting_detection", True)),
                fields=["id"],
                name="post_detection_queue",
            ),
        ),
    ]
