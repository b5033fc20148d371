"""Triage: which judged posts become cases, and for the others, why not.

Monitoring calls ``triage`` with the ids of new detections (config wires it
through ``NOJACKAL_AFTER_DETECTION``). A complaint about a brand, not written by
one of our accounts or a brand's official one, opens a case through
``open_case``; every detection records its outcome (``Detection.triage``),
filterable in the admin, with the workflow's refusal as a reason code.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from monitoring.models import Brand, Detection
from outreach.workflow.opening import Batch, open_case
from outreach.workflow.rules import WorkflowError

Triage = Detection.Triage


def triage(detection_ids: Sequence[int]) -> dict[str, int]:
    """Open cases for the detections that deserve one; record why for the others.

    Everything the decisions read is read once for the batch (``Batch.read``), so
    a post costs ``open_case``'s few writes whatever the size of the history; the
    outcomes are written grouped, one UPDATE per outcome and note, in the batch's
    one transaction.
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
    official = {
        handle.lstrip("@").lower(): brand
        for brand in batch.brands.values()
        for handles in brand.handles.values()
        for handle in handles
    }
    outcomes: dict[tuple[str, str], list[int]] = {}
    # One transaction for the batch: one commit instead of one per case, and the
    # outcomes land with the cases they describe (each case still in a savepoint
    # of its own, so one refusal by the database does not undo the others).
    with transaction.atomic():
        for detection in detections:
            post, author = detection.post, detection.post.author
            handle = author.handle.lstrip("@").lower()
            brand = batch.brands.get(detection.brand_id) if detection.brand_id else None
            note = ""
            if brand is None:
                outcome = Triage.NO_BRAND
            elif not detection.complaint:
                outcome = Triage.NOT_COMPLAINT
            elif (post.platform, handle) in batch.our_handles or (
                handle in official and official[handle].kind == Brand.Kind.OWN
            ):
                outcome = Triage.OUR_ACCOUNT
            elif handle in official:
                outcome = Triage.BRAND_ACCOUNT
            else:
                kind = "own_brand" if brand.kind == Brand.Kind.OWN else "competitor"
                try:
                    open_case(
                        post.pk,
                        brand.pk,
                        kind,
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
    return counts


def refusal_reason(exc: Exception) -> str:
    """Map the workflow's refusal to a triage reason the admin can filter on."""
    reason = getattr(exc, "reason", "")
    return reason if reason in Triage.values else Triage.ERROR
