"""Indexes for the admin's lists and searches, built without locking (issue #15).

- GIN trigram indexes (``pg_trgm``) on UPPER(post text), UPPER(person handle) and
  UPPER(display name): Django's ``icontains`` is ``UPPER(col) LIKE UPPER('%x%')``,
  which these answer (PostgreSQL only; SQLite searches by scanning);
- UPPER(handle) for exact, case-insensitive handle lookups (the queue's search);
- the few corrected detections (the detection list's correction filter).

Each is built with CREATE INDEX CONCURRENTLY on PostgreSQL (monitoring/migration_ops.py),
so this migration is not atomic; if it stops half-way, run migrate again.
"""

import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from monitoring.migration_ops import AddIndexConcurrently, AddTrigramIndex


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("monitoring", "0008_incident_hours"),
    ]

    operations = [
        TrigramExtension(),
        AddTrigramIndex(table="monitoring_post", column="text", name="post_text_trgm"),
        AddTrigramIndex(table="monitoring_person", column="handle", name="person_handle_trgm"),
        AddTrigramIndex(
            table="monitoring_person", column="display_name", name="person_display_name_trgm"
        ),
        AddIndexConcurrently(
            model_name="person",
            index=models.Index(
                django.db.models.functions.text.Upper("handle"), name="person_handle_upper"
            ),
        ),
        AddIndexConcurrently(
            model_name="detection",
            index=models.Index(
                condition=models.Q(("correction", ""), _negated=True),
                fields=["correction", "posted_at"],
                name="detection_corrected",
            ),
        ),
    ]
