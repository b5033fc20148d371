"""The people search's trigram indexes without GIN's pending list (issue #15).

New people's trigrams waited in the index's pending list, which every search reads
whole until a vacuum merges it; autovacuum comes after a fifth of the table's rows,
so on a long history the list grew to its 4 MB limit. People arrive a few per post:
their trigrams now go straight into the index (monitoring/migration_ops.py,
``TrigramFastUpdateOff``). The post text index keeps its list: the detection queue
rewrites every new post's row once, and its trigrams with it.
"""

from django.db import migrations

from monitoring.migration_ops import TrigramFastUpdateOff


class Migration(migrations.Migration):
    atomic = False  # gin_clean_pending_list works through the list in its own transactions

    dependencies = [
        ("monitoring", "0020_brand_threshold"),
    ]

    operations = [
        TrigramFastUpdateOff(name="person_handle_trgm"),
        TrigramFastUpdateOff(name="person_display_name_trgm"),
    ]
