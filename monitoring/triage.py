"""Detection: judge new posts in batches, group complaints, hand them on for triage.

For each batch of posts without a verdict: match brands (one pass for all
brands), classify (one call for the batch), tell the language (the platform's code, else
detected: monitoring/language.py), store Detections, attach
complaints to incidents, then hand the new detections to the triage named by
``NOJACKAL_AFTER_DETECTION`` (outreach's, which opens cases and records on each
detection why it did not, ``Detection.triage``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from monitoring import classifier, incidents, language, rollups
from monitoring.detection import BrandMatcher, BrandTerms
from monitoring.models import Brand, ClassifierVersion, Detection, Post

log = logging.getLogger(__name__)

BATCH_SIZE = 500


def brand_terms(brands: Sequence[Brand]) -> list[BrandTerms]:
    """The matcher's view of our brands: every name, and official handles on every platform."""
    return [
        BrandTerms(
            brand_id=b.pk,
            names=[b.name],
            aliases=list(b.aliases),
            products=list(b.products),
            handles=sorted({h for handles in b.handles.values() for h in handles}),
            exclusions=list(b.exclusions),
        )
        for b in brands
    ]


_loaded: dict[str, classifier.TrainedModel] = {}


def active_model() -> classifier.TrainedModel:
    """The classifier version an admin activated, else the one trained on the shipped examples."""
    row = ClassifierVersion.objects.filter(active=True).values_list("version", flat=True).first()
    if row is None:
        # Trained from the shipped examples at first use (about a second), then kept.
        row = "default"
        if row not in _loaded:
            _loaded.clear()
            _loaded[row] = classifier.load_default()
        return _loaded[row]
    if row not in _loaded:
        blob = ClassifierVersion.objects.values_list("blob", flat=True).get(version=row)
        _loaded.clear()  # one model in memory per worker: they are not small
        _loaded[row] = classifier.TrainedModel.from_bytes(bytes(blob))
    return _loaded[row]


def detect_pending(limit: int = BATCH_SIZE) -> list[int]:
    """Judge up to ``limit`` posts from the detection queue; return the new Detection ids.

    Two workers running this at once take disjoint posts (SKIP LOCKED on
    PostgreSQL; SQLite serialises the transactions), and the one-to-one
    Detection.post makes a second verdict on a post impossible.
    """
    brands = list(Brand.objects.all())
    matcher = BrandMatcher(brand_terms(brands))
    by_id = {b.pk: b for b in brands}
    model = active_model()
    with transaction.atomic():
        posts = _take_waiting(limit)
        if not posts:
            return []
        verdicts = model.predict([p.text for p in posts])
        languages = language.languages_of([p.text for p in posts], [p.lang for p in posts])
        detections = []
        mentioned: list[list[int]] = []
        for post, verdict, lang in zip(posts, verdicts, languages, strict=True):
            matches = matcher.find(post.text)
            brand_ids = list(dict.fromkeys(m.brand_id for m in matches))
            mentioned.append(brand_ids)
            brand_id = primary_brand(brand_ids, by_id)
            detections.append(
                Detection(
                    post=post,
                    brand_id=brand_id,
                    posted_at=post.posted_at,
                    complaint=is_complaint(verdict, by_id.get(brand_id) if brand_id else None),
                    score=verdict.score,
                    sentiment=verdict.sentiment,
                    topic=verdict.topic,
                    model_version=verdict.model,
                    language=lang.code,
                )
            )
        Detection.objects.bulk_create(detections)
        ids = list(
            Detection.objects.filter(post_id__in=[p.pk for p in posts]).values_list("post_id", "pk")
        )
        detection_by_post = dict(ids)
        Through = Detection.brands.through
        Through.objects.bulk_create(
            [
                Through(detection_id=detection_by_post[post.pk], brand_id=brand_id)
                for post, brand_ids in zip(posts, mentioned, strict=True)
                for brand_id in brand_ids
            ]
        )
        rollups.count_detections(
            (post.posted_at, d.brand_id, d.complaint, named)
            for post, d, named in zip(posts, detections, mentioned, strict=True)
        )
    return [detection_by_post[p.pk] for p in posts]


def _take_waiting(limit: int) -> list[Post]:
    """Up to ``limit`` posts from the detection queue, taken off it (inside the caller's
    transaction: a rollback puts them back).

    The queue is the partial index on ``Post.awaiting_detection``, so finding a
    batch costs the same at any size of history. A post that already has a
    Detection (written by hand, or before the flag existed) leaves the queue
    without a second verdict.
    """
    while True:
        waiting = Post.objects.filter(awaiting_detection=True).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            waiting = waiting.select_for_update(skip_locked=True, of=("self",))
        posts = list(waiting.only("pk", "text", "lang", "posted_at")[:limit])
        if not posts:
            return []
        ids = [p.pk for p in posts]
        Post.objects.filter(pk__in=ids).update(awaiting_detection=False)
        judged = set(Detection.objects.filter(post_id__in=ids).values_list("post_id", flat=True))
        fresh = [p for p in posts if p.pk not in judged]
        if fresh:
            return fresh


def is_complaint(verdict: classifier.Verdict, brand: Brand | None) -> bool:
    """Complaint when the score reaches the brand's threshold (chosen on the team's labels for
    that brand when the active version was trained, ``Brand.threshold``), else the model's."""
    if brand is None or brand.threshold is None:
        return verdict.complaint
    return verdict.score >= brand.threshold


def primary_brand(brand_ids: Sequence[int], brands: dict[int, Brand]) -> int | None:
    """Own brand first (service comes before outreach), else the first competitor named."""
    for brand_id in brand_ids:
        if brands[brand_id].kind == Brand.Kind.OWN:
            return brand_id
    return brand_ids[0] if brand_ids else None


def after_detection() -> Callable[[Sequence[int]], dict[str, int]]:
    """What decides which new detections become cases (``NOJACKAL_AFTER_DETECTION``).

    Monitoring finds and judges posts; whether one becomes an outreach case is
    outreach's decision. config/settings.py names outreach's triage here, so this
    app never imports outreach (and runs alone, e.g. in its own tests, with no hook).
    """
    path = getattr(settings, "NOJACKAL_AFTER_DETECTION", "")
    if not path:
        return lambda detection_ids: {}
    return import_string(path)


def run(limit: int = BATCH_SIZE) -> int:
    """Detect a batch, group it into incidents, triage it; return how many posts were judged."""
    detection_ids = detect_pending(limit)
    if not detection_ids:
        return 0
    for incident_id in incidents.assign(detection_ids):
        incidents.refresh(incident_id, timezone.now())
    counts = after_detection()(detection_ids)
    log.info("judged %d post(s): %s", len(detection_ids), counts)
    return len(detection_ids)
