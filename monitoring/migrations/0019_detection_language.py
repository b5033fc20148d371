"""A detection's language and the triage outcome "language not covered" (issue #17).

The column has a database default of "" (no table rewrite on PostgreSQL; a worker still
running the old code during the upgrade inserts detections without it). Rows judged before
keep "", which triage reads as covered: nothing already triaged changes.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0018_account_personal_account"),
    ]

    operations = [
        migrations.AddField(
            model_name="detection",
            name="language",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="The post's language (ISO 639-1): the platform's code, else detected; empty when the post has too few words to tell (monitoring/language.py).",
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="detection",
            name="triage",
            field=models.CharField(
                choices=[
                    ("pending", "Not triaged yet"),
                    ("opened", "Case opened"),
                    ("no_brand", "No brand mentioned"),
                    ("not_complaint", "Not a complaint"),
                    ("language_not_covered", "Language not covered: judge it"),
                    ("too_old", "Too old"),
                    ("our_account", "One of our accounts"),
                    ("brand_account", "The brand's own account"),
                    ("do_not_contact", "Do not contact"),
                    ("in_conversation", "Already in conversation"),
                    ("cooldown", "Cooling down after a case"),
                    ("cap_reached", "Playbook cap reached"),
                    ("no_playbook", "No active playbook"),
                    ("error", "Error"),
                ],
                default="pending",
                max_length=20,
            ),
        ),
    ]
