"""Team labels (issue #17): the ``Label`` table, and the reviewers' corrections made before it
("complaint", "not a complaint") copied into it as labels of source correction."""

import hashlib
import unicodedata

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _text_key(text):
    # monitoring.label_files.text_key as of this migration (copied: a migration must not
    # change meaning when the app's code does).
    normalised = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def copy_corrections(apps, schema_editor):
    Detection = apps.get_model("monitoring", "Detection")
    Label = apps.get_model("monitoring", "Label")
    rows = (
        Detection.objects.filter(correction__in=["complaint", "not_complaint"])
        .order_by("corrected_at", "pk")
        .values_list(
            "post_id",
            "post__text",
            "post__platform",
            "brand_id",
            "correction",
            "corrected_by_id",
            "corrected_at",
        )
    )
    labels = {}  # text key -> Label; the latest correction of a text wins
    for post_id, text, platform, brand_id, correction, user_id, corrected_at in rows.iterator(
        chunk_size=2000
    ):
        text = (text or "").strip()
        if not text:
            continue
        key = _text_key(text)
        labels[key] = Label(
            text=text,
            text_key=key,
            complaint=correction == "complaint",
            brand_id=brand_id,
            platform=platform,
            source="correction",
            post_id=post_id,
            labelled_by_id=user_id,
            **({"labelled_at": corrected_at} if corrected_at else {}),
        )
    Label.objects.bulk_create(list(labels.values()), batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0015_detection_queue"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Label",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("text", models.TextField()),
                (
                    "text_key",
                    models.CharField(
                        editable=False,
                        help_text="SHA-256 of the normalised text.",
                        max_length=64,
                        unique=True,
                    ),
                ),
                ("complaint", models.BooleanField()),
                ("platform", models.CharField(blank=True, max_length=20)),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("correction", "Reviewer correction"),
                            ("import", "Bulk import"),
                            ("queue", "Label queue"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "external_id",
                    models.CharField(
                        blank=True,
                        help_text="The id the imported file gave the row, if any.",
                        max_length=200,
                    ),
                ),
                ("labelled_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "brand",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="labels",
                        to="monitoring.brand",
                    ),
                ),
                (
                    "labelled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "post",
                    models.ForeignKey(
                        blank=True,
                        help_text="The post the label was given on (corrections and the label queue).",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="labels",
                        to="monitoring.post",
                    ),
                ),
            ],
            options={
                "ordering": ["-labelled_at"],
                "indexes": [
                    models.Index(fields=["labelled_at"], name="label_labelled_at"),
                    models.Index(fields=["brand", "complaint"], name="label_brand_complaint"),
                ],
            },
        ),
        migrations.RunPython(copy_corrections, migrations.RunPython.noop),
    ]
