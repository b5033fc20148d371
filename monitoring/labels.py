"""Team labels: the one place that writes ``Label`` rows.

A label is keyed by the hash of its normalised text (``label_files.text_key``): labelling a
text again replaces the earlier label (its verdict, brand, source, who and when) instead of
adding a second row, so training never counts a text twice and the latest judgement wins.

Writers: reviewers' corrections in the detection admin (``record_corrections``), the label
queue (``record``), ``import_labels`` (``import_rows``); ``forget_person`` deletes through
``forget``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from monitoring.label_files import LabelRow, normalise_text, text_key
from monitoring.models import Brand, Detection, Label, Post

__all__ = [
    "ImportSummary",
    "forget",
    "import_rows",
    "normalise_text",
    "record",
    "record_corrections",
    "text_key",
]

# Rows per statement in imports and corrections: bounded memory and statement size.
CHUNK = 500
# The fields a later label replaces (everything but the text's key).
_REPLACED = [
    "text",
    "complaint",
    "brand",
    "platform",
    "source",
    "external_id",
    "post",
    "labelled_by",
    "labelled_at",
]


def record(
    text: str,
    complaint: bool,
    source: str,
    brand: Brand | None = None,
    platform: str = "",
    post: Post | None = None,
    user: Any = None,
    external_id: str = "",
) -> Label:
    """Store the team's verdict on ``text``, replacing any earlier label of the same text."""
    if source not in Label.Source.values:
        raise ValueError(f"unknown label source {source!r}")
    text = text.strip()
    if not text:
        raise ValueError("an empty text cannot be labelled")
    label, _ = Label.objects.update_or_create(
        text_key=text_key(text),
        defaults={
            "text": text,
            "complaint": complaint,
            "brand": brand,
            "platform": platform,
            "source": source,
            "external_id": external_id,
            "post": post,
            "labelled_by": user if getattr(user, "pk", None) else None,
            "labelled_at": timezone.now(),
        },
    )
    return label


def record_corrections(detections: QuerySet[Detection], correction: str, user: Any) -> int:
    """Mark ``detections`` corrected as ``correction`` and, for complaint / not a complaint,
    store each post's text as a label (source correction), in one transaction; the count.

    "Wrong brand" says nothing about complaint-ness, so it stores no label (and leaves an
    earlier label of the text alone).
    """
    now = timezone.now()
    # By id: the caller's queryset may be filtered on the very field this changes.
    ids = list(detections.values_list("pk", flat=True))
    detections = Detection.objects.filter(pk__in=ids)
    with transaction.atomic():
        count = detections.update(correction=correction, corrected_by=user, corrected_at=now)
        if correction not in (Detection.Correction.COMPLAINT, Detection.Correction.NOT_COMPLAINT):
            return count
        complaint = correction == Detection.Correction.COMPLAINT
        rows = detections.values_list("post_id", "post__text", "post__platform", "brand_id")
        labels = {}
        for post_id, text, platform, brand_id in rows.iterator(chunk_size=CHUNK):
            text = (text or "").strip()
            if not text:
                continue  # an erased post's empty row: nothing to learn from
            key = text_key(text)
            labels[key] = Label(
                text=text,
                text_key=key,
                complaint=complaint,
                brand_id=brand_id,
                platform=platform,
                source=Label.Source.CORRECTION,
                post_id=post_id,
                labelled_by=user if getattr(user, "pk", None) else None,
                labelled_at=now,
            )
        _upsert(list(labels.values()))
    return count


def _upsert(labels: Sequence[Label]) -> None:
    for start in range(0, len(labels), CHUNK):
        Label.objects.bulk_create(
            labels[start : start + CHUNK],
            update_conflicts=True,
            unique_fields=["text_key"],
            update_fields=_REPLACED,
        )


@dataclass
class ImportSummary:
    """What an import did: labels created, changed, already as given."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0


def import_rows(
    rows: Sequence[LabelRow],
    brands: dict[str, Brand],
    *,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Store rows read by ``read_label_file`` as labels (source import), all or nothing.

    ``brands`` maps casefolded names to brands (every row's brand must be in it). A text
    already labelled with the same verdict, brand and id is left as it was (counted
    unchanged, its date and source kept); otherwise the file's row replaces it.
    ``progress`` is called with the number of rows done after each chunk.
    """
    summary = ImportSummary()
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            keyed = {text_key(row.text): row for row in chunk}
            existing = {
                key: (complaint, brand_id, external_id)
                for key, complaint, brand_id, external_id in Label.objects.filter(
                    text_key__in=list(keyed)
                ).values_list("text_key", "complaint", "brand_id", "external_id")
            }
            writes = []
            for key, row in keyed.items():
                brand = brands[row.brand.casefold()] if row.brand else None
                wanted = (row.complaint, brand.pk if brand else None, row.id)
                if key not in existing:
                    summary.new += 1
                elif existing[key] == wanted:
                    summary.unchanged += 1
                    continue
                else:
                    summary.updated += 1
                writes.append(
                    Label(
                        text=row.text,
                        text_key=key,
                        complaint=row.complaint,
                        brand=brand,
                        source=Label.Source.IMPORT,
                        external_id=row.id,
                        labelled_at=now,
                    )
                )
            _upsert(writes)
            if progress is not None:
                progress(start + len(chunk))
    return summary


def forget(post_ids: Iterable[int], texts: Iterable[str]) -> int:
    """Delete the labels given on these posts or on their texts (however they arrived); the
    count. For ``forget_person``: a person's words leave the training data with them."""
    keys = sorted({text_key(text) for text in texts if text and text.strip()})
    ids = list(post_ids)
    deleted = 0
    # Bounded statements: a prolific author can have many posts.
    for start in range(0, max(len(ids), len(keys)), CHUNK):
        deleted += Label.objects.filter(
            Q(post_id__in=ids[start : start + CHUNK]) | Q(text_key__in=keys[start : start + CHUNK])
        ).delete()[0]
    return deleted
