"""The label queue (active learning): the posts the active classifier is least sure of.

Uncertainty sampling: a verdict whose score sits near the decision threshold is the one a
label changes most. The queue takes, per brand (and one bucket for posts naming none), the
active model's uncorrected verdicts closest to that brand's threshold, walking outwards
from it through the ``detection_label_queue`` index (model version, brand, score), one
bounded range scan above and one below; then deals them round-robin across brands so one
noisy brand cannot fill the page, drops near-duplicates (retweets, the same text with other
links or mentions) and texts the team already labelled.

Cost does not depend on the table's size: each brand costs two index range scans of at most
``_CHUNK`` rows (more, up to ``_ROUNDS`` each, only when its nearest posts are all labelled or
duplicates), and a page looks at no more than ``MAX_EXAMINED`` candidates.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from monitoring import classifier
from monitoring.label_files import normalise_text, text_key
from monitoring.models import Brand, ClassifierVersion, Detection, Label

# Rows fetched per side per brand per round, and rounds before a brand's bucket gives up
# (when nearly everything near its threshold is labelled or a duplicate already).
_CHUNK = 25
_ROUNDS = 4
# Candidates looked at per page at most (when nearly all are labelled or duplicates), and
# per look-up of their texts among the labels at least.
MAX_EXAMINED = 400
_MIN_BATCH = 20
# Two texts sharing this much of their word 3-shingles are near-duplicates.
NEAR_DUPLICATE_JACCARD = 0.8
# Labels the running disagreement estimate looks back over.
ESTIMATE_WINDOW = 200

_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|^rt\b|\d+|[^\w\s]", re.UNICODE)


@dataclass
class Candidate:
    """One post to label: its verdict's row and how unsure the model is of it."""

    detection: Detection
    threshold: float

    @property
    def distance(self) -> float:
        return abs(self.detection.score - self.threshold)


def threshold_of(brand: Brand | None) -> float:
    """The decision threshold for ``brand``: its own if it has one (``Brand.threshold``,
    chosen on the team's labels), else the classifier's own."""
    if brand is None or brand.threshold is None:
        return float(classifier.DEFAULT_PARAMS["threshold"])
    return float(brand.threshold)


def active_version() -> str:
    """The version string of the active classifier (the shipped default's if none is)."""
    row = ClassifierVersion.objects.filter(active=True).values_list("version", flat=True).first()
    if row is not None:
        return row
    return classifier.load_default().version  # trained at first use: only then


def skeleton(text: str) -> str:
    """The text with links, mentions, hashtags, numbers and punctuation gone: what a
    retweet, a copy-paste campaign or a bot's template variations share."""
    return " ".join(_NOISE.sub(" ", normalise_text(text)).split())


def _shingles(words: list[str]) -> set[str]:
    if len(words) < 3:
        return {" ".join(words)}
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


class _Dedup:
    """Near-duplicate filter over one page: equal skeletons, or 3-shingle Jaccard >= 0.8
    (a page is a few dozen posts, so comparing each with the admitted ones is cheap)."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.shingles: list[set[str]] = []

    def admit(self, text: str) -> bool:
        skel = skeleton(text)
        if skel in self.keys:
            return False
        mine = _shingles(skel.split())
        for other in self.shingles:
            union = len(mine | other)
            if union and len(mine & other) / union >= NEAR_DUPLICATE_JACCARD:
                return False
        self.keys.add(skel)
        self.shingles.append(mine)
        return True


def _side(base: Any, brand: Brand | None, threshold: float, *, above: bool) -> Iterator[Detection]:
    """Verdicts walking away from the threshold on one side, keyset-paged by (score, id)."""
    last: tuple[float, int] | None = None
    for _ in range(_ROUNDS):
        qs = base
        if above:
            qs = qs.filter(score__gte=threshold)
            if last is not None:
                qs = qs.filter(score__gte=last[0]).exclude(score=last[0], pk__lte=last[1])
            qs = qs.order_by("score", "pk")
        else:
            qs = qs.filter(score__lt=threshold)
            if last is not None:
                qs = qs.filter(score__lte=last[0]).exclude(score=last[0], pk__gte=last[1])
            qs = qs.order_by("-score", "-pk")
        chunk = list(qs[:_CHUNK])
        for detection in chunk:
            detection.brand = brand
            yield detection
        if len(chunk) < _CHUNK:
            return
        last = (chunk[-1].score, chunk[-1].pk)


def _brand_stream(
    version: str, brand: Brand | None, skipped: Collection[int]
) -> Iterator[Candidate]:
    """One brand's candidates, nearest the threshold first (merging the two sides)."""
    threshold = threshold_of(brand)
    base = (
        Detection.objects.filter(model_version=version, correction="", brand=brand)
        .filter(post__redacted_at__isnull=True)
        # Posts labelled in the queue or by a correction; texts labelled by an import are
        # caught by their key below.
        .exclude(Exists(Label.objects.filter(post_id=OuterRef("post_id"))))
        # Skipped in this session: a filter on the rows scanned (the admin keeps 500 at most).
        .exclude(pk__in=list(skipped))
        # Not the brand: a join to it (an outer one for "no brand") can turn the ordered
        # index scan into a sort of the whole bucket. The brand is known here already.
        .select_related("post")
    )
    up = _side(base, brand, threshold, above=True)
    down = _side(base, brand, threshold, above=False)
    a, b = next(up, None), next(down, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a.score - threshold <= threshold - b.score):
            assert a is not None
            yield Candidate(a, threshold)
            a = next(up, None)
        else:
            yield Candidate(b, threshold)
            b = next(down, None)


def queue(size: int = 20, *, skipped: Collection[int] = ()) -> list[Candidate]:
    """Up to ``size`` posts to label: nearest their brand's threshold first, one brand after
    another (round-robin), near-duplicates and already-labelled texts left out, ``skipped``
    detection ids too."""
    version = active_version()
    brands: list[Brand | None] = [*Brand.objects.order_by("pk"), None]
    dealt = _round_robin([_brand_stream(version, brand, skipped) for brand in brands])
    dedup = _Dedup()
    chosen: list[Candidate] = []
    examined = 0
    while len(chosen) < size and examined < MAX_EXAMINED:
        # Several candidates per look-up of their texts among the labels: one query for
        # a page in the usual case, a bounded number when most are labelled or duplicates.
        batch = list(itertools.islice(dealt, max(2 * (size - len(chosen)), _MIN_BATCH)))
        if not batch:
            break
        examined += len(batch)
        chosen.extend(_admit(batch, dedup)[: size - len(chosen)])
    return chosen


def _round_robin(streams: list[Iterator[Candidate]]) -> Iterator[Candidate]:
    """Deal the brands' candidates in rounds: each round every brand's next best, the least
    sure first."""
    heads: list[Candidate | None] = [next(stream, None) for stream in streams]
    while True:
        order = sorted(
            (i for i, head in enumerate(heads) if head is not None),
            key=lambda i: heads[i].distance,  # type: ignore[union-attr]
        )
        if not order:
            return
        for i in order:
            head = heads[i]
            assert head is not None
            yield head
            heads[i] = next(streams[i], None)


def _admit(batch: list[Candidate], dedup: _Dedup) -> list[Candidate]:
    keys = {text_key(c.detection.post.text) for c in batch}
    labelled = set(Label.objects.filter(text_key__in=keys).values_list("text_key", flat=True))
    out = []
    for candidate in batch:
        text = candidate.detection.post.text
        if not text.strip() or text_key(text) in labelled or not dedup.admit(text):
            continue
        out.append(candidate)
    return out


@dataclass
class Progress:
    """The queue page's figures: labels given today, and how often the model was wrong."""

    today_mine: int
    today_team: int
    recent: int  # queue labels looked at for the estimate
    disagreed: int  # of those, how many the model's verdict disagreed with
    since_active: int  # labels given since the active version was trained

    @property
    def disagreement(self) -> float | None:
        return self.disagreed / self.recent if self.recent else None


def progress(user: Any, *, now: dt.datetime | None = None) -> Progress:
    """Count today's labels (the user's, the team's) and the model's disagreement with the
    last ``ESTIMATE_WINDOW`` queue labels; every query is bounded or on an index."""
    now = now or timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    today = Label.objects.filter(labelled_at__gte=midnight)
    recent = list(
        Label.objects.filter(source=Label.Source.QUEUE, post__detection__isnull=False)
        .order_by("-labelled_at")
        .values_list("complaint", "post__detection__complaint")[:ESTIMATE_WINDOW]
    )
    trained = (
        ClassifierVersion.objects.filter(active=True).values_list("created_at", flat=True).first()
    )
    return Progress(
        today_mine=today.filter(labelled_by=user).count(),
        today_team=today.count(),
        recent=len(recent),
        disagreed=sum(1 for label, verdict in recent if label != verdict),
        since_active=(
            Label.objects.filter(labelled_at__gt=trained).count()
            if trained is not None
            else Label.objects.count()
        ),
    )
