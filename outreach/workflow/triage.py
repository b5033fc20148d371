"""Triage: which judged posts become cases, and for the others, why not.

Monitoring calls ``triage`` with the ids of new detections (config wires it
through ``NOJACKAL_AFTER_DETECTION``). A complaint about a brand, not written by
one of our accounts or a brand's official one, opens a case through
``open_case``; one in a language the classifier does not cover goes to a person
("language not covered") whatever its score. Every detection records its outcome
(``Detection.triage``), filterable in the admin, with the workflow's refusal as a reason code.

A reviewer who corrects a missed post ("this is a complaint") opens its case in
one step with ``open_for_detection``: the same rules, the kind from the brand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction

from monitoring.language import is_covered
from monitoring.models import Account, Brand, Detection
from outreach import rollups
from outreach.models import Case, Severity
from outreach.workflow.opening import Batch, kind_for_brand, open_case
from outreach.workflow.rules import User, WorkflowError

Triage = Detection.Triage


def _official(brands: Iterable[Brand]) -> dict[str, Brand]:
    """The brands' official handles, without "@" and lowercased."""
    return {
        handle.lstrip("@").lower(): brand
        for brand in brands
        for handles in brand.handles.values()
        for handle in handles
    }


def _handles() -> tuple[set[tuple[str, str]], dict[str, Brand]]:
    """Our accounts' (platform, handle) and the brands' official handles, lowercased."""
    our_handles = {
        (platform, handle.lstrip("@").lower())
        for platform, handle in Account.objects.values_list("platform", "handle")
    }
    return our_handles, _official(Brand.objects.all())


def _author_outcome(
    detection: Detection, our_handles: set[tuple[str, str]], official: dict[str, Brand]
) -> str | None:
    """Why the post's author gets no case (ours, or a brand's official account), or None."""
    post = detection.post
    handle = post.author.handle.lstrip("@").lower()
    if (post.platform, handle) in our_handles or (
        handle in official and official[handle].kind == Brand.Kind.OWN
    ):
        return Triage.OUR_ACCOUNT
    if handle in official:
        return Triage.BRAND_ACCOUNT
    return None


def triage(detection_ids: Sequence[int]) -> dict[str, int]:
    """Open cases for the detections that deserve one; record why for the others.

    Everything the decisions read is read once for the batch (``Batch.read``), so
    a post costs ``open_case``'s few writes whatever the size of the history; the
    outcomes are written grouped, one UPDATE per outcome and note, and the dashboard's
    count of the cases opened in one statement, in the batch's one transaction.
    """
    counts: dict[str, int] = {}
    detections = list(
        Detection.objects.filter(pk__in=list(detection_ids), triage=Triage.PENDING)
        .select_related("post__author")
        .order_by("pk")
    )
    if not detections:
        return counts
    batch = Batch.read([d.post for d in detections], [d.incident_id for d in detections])
    batch.opened = rollups.Tally()
    official = _official(batch.brands.values())
    outcomes: dict[tuple[str, str], list[int]] = {}
    # One transaction for the batch: one commit instead of one per case, and the
    # outcomes land with the cases they describe (each case still in a savepoint
    # of its own, so one refusal by the database does not undo the others).
    with transaction.atomic():
        for detection in detections:
            post = detection.post
            brand = batch.brands.get(detection.brand_id) if detection.brand_id else None
            note = ""
            outcome: str
            if brand is None:
                outcome = Triage.NO_BRAND
            elif not is_covered(detection.language):
                # The verdict came from a model that cannot read the post: a person judges it
                # (the detection list's "Language not covered"), whatever the score said.
                outcome = (
                    _author_outcome(detection, batch.our_handles, official)
                    or Triage.LANGUAGE_NOT_COVERED
                )
            elif not detection.complaint:
                outcome = Triage.NOT_COMPLAINT
            elif author := _author_outcome(detection, batch.our_handles, official):
                outcome = author
            else:
                try:
                    open_case(
                        post.pk,
                        brand.pk,
                        kind_for_brand(brand),
                        incident_id=detection.incident_id,
                        automatic=True,
                        batch=batch,
                    )
                except WorkflowError as exc:
                    outcome, note = refusal_reason(exc), str(exc)
                else:
                    outcome = Triage.OPENED
            outcomes.setdefault((str(outcome), note[:300]), []).append(detection.pk)
            counts[str(outcome)] = counts.get(str(outcome), 0) + 1
        for (outcome, note), ids in outcomes.items():
            Detection.objects.filter(pk__in=ids, triage=Triage.PENDING).update(
                triage=outcome, triage_note=note
            )
        # The dashboard's count of the cases opened: one statement for the batch.
        batch.opened.flush()
    return counts


def is_complaint(detection: Detection) -> bool:
    """A complaint as the team knows it: the reviewer's correction, else the classifier's."""
    if detection.correction:
        return detection.correction == Detection.Correction.COMPLAINT
    return detection.complaint


def open_for_detection(detection_id: int, *, actor: User, severity: int = Severity.NORMAL) -> Case:
    """Open the case a corrected detection deserves, in one step, under every rule of
    ``open_case`` (and triage's: not our account, not a brand's); the case.

    The kind is the brand's (ours: own-brand service; a competitor: outreach), the
    incident the detection's. Refusals raise ``WorkflowError`` naming the reason."""
    detection = (
        Detection.objects.select_related("post__author", "brand").filter(pk=detection_id).first()
    )
    if detection is None:
        raise WorkflowError(f"there is no detection #{detection_id}")
    if not is_complaint(detection):
        raise WorkflowError(
            f"detection #{detection_id} is not a complaint: mark it as a complaint first"
        )
    if detection.brand is None:
        raise WorkflowError(f"detection #{detection_id} names no brand")
    author = _author_outcome(detection, *_handles())
    if author is not None:
        raise WorkflowError(f"{detection.post.author} is {Triage(author).label.lower()}")
    case = open_case(
        detection.post_id,
        detection.brand.pk,
        kind_for_brand(detection.brand),
        actor=actor,
        severity=severity,
        incident_id=detection.incident_id,
    )
    Detection.objects.filter(pk=detection.pk).update(
        triage=Triage.OPENED, triage_note=f"case {case.pk} opened by hand after a correction"
    )
    return case


def refusal_reason(exc: Exception) -> str:
    """Map the workflow's refusal to a triage reason the admin can filter on."""
    reason = getattr(exc, "reason", "")
    return reason if reason in Triage.values else Triage.ERROR
