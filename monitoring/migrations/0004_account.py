"""Our platform accounts move from outreach to monitoring, beside the platforms: state only.

Listening (a source searching as an account) and sending both use an account, so
it belongs with the platforms. No row is touched here: the model is declared in
monitoring on the existing ``outreach_account`` table, the source's foreign key
is repointed in the state, and 0005 renames the table once outreach has let go.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0003_source_account"),
        ("outreach", "0006_drop_incident_refs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Account",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("platform", models.CharField(choices=[("sandbox", "Sandbox (simulated network)"), ("mastodon", "Mastodon"), ("bluesky", "Bluesky"), ("reddit", "Reddit"), ("x", "X"), ("hackernews", "Hacker News"), ("rss", "RSS/Atom feed")], max_length=20)),
                        ("handle", models.CharField(max_length=255)),
                        ("display_name", models.CharField(blank=True, max_length=255)),
                        ("options", models.JSONField(blank=True, default=dict, help_text="Plain settings (instance URL...), never secrets.")),
                        ("credentials_encrypted", models.TextField(blank=True, editable=False)),
                        ("max_sends_per_hour", models.PositiveIntegerField(default=6, help_text="The platform-side cap for this account, on top of playbook caps.")),
                        ("enabled", models.BooleanField(default=True)),
                        ("notifications_cursor", models.TextField(blank=True, editable=False)),
                        ("rate_limited_until", models.DateTimeField(blank=True, editable=False, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "ordering": ["platform", "handle"],
                        "constraints": [models.UniqueConstraint(fields=("platform", "handle"), name="account_unique_handle")],
                        "db_table": "outreach_account",
                    },
                ),
                migrations.AlterField(
                    model_name="source",
                    name="account",
                    field=models.ForeignKey(blank=True, help_text="Search as this account (its credentials and its rate limit, shared with everything else that uses it). Needed for Mastodon full-text search, Bluesky, Reddit.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="sources", to="monitoring.account"),
                ),
            ],
        ),
    ]
