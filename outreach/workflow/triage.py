"""Triage: which judged posts become cases, and for the others, why not.

Monitoring calls ``triage`` with the ids of new detections (config wires it
through ``NOJACKAL_AFTER_DETECTION``). A complaint about a brand, not written by
one of our accounts or a brand's official one, opens a case through
``open_case``; every detection records its outcome (``Detection.triage``),
filterable in the admin, with the workflow's refusal as a reason code.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitoring.models import Account, Brand, Detection
from outreach.workflow.opening import open_case
from outreach.workflow.rules import WorkflowError

Triage = Detection.Triage


def triage(detection_ids: Sequence[int]) -> dict[str, int]:
    """Open cases for the detections that deserve one; record why for the others."""
    counts: dict[str, int] = {}
    our_handles = {
        (platform, handle.lower())
        for platform, handle in Account.objects.values_list("platform", "handle")
    }
    brands = {b.pk: b for b in Brand.objects.all()}
    official = {
        handle.lstrip("@").lower(): brand
        for brand in brands.values()
        for handles in brand.handles.values()
        for handle in handles
    }
    detections = Detection.objects.filter(
        pk__in=list(detection_ids), triage=Triage.PENDING
    ).select_related("post__author", "brand")
    for detection in detections:
        post, author = detection.post, detection.post.author
        handle = author.handle.lstrip("@").lower()
        note = ""
        if detection.brand is None:
            outcome = Triage.NO_BRAND
        elif not detection.complaint:
            outcome = Triage.NOT_COMPLAINT
        elif (post.platform, handle) in our_handles or (
            handle in official and official[handle].kind == Brand.Kind.OWN
        ):
            outcome = Triage.OUR_ACCOUNT
        elif handle in official:
            outcome = Triage.BRAND_ACCOUNT
        else:
            kind = "own_brand" if detection.brand.kind == Brand.Kind.OWN else "competitor"
            try:
                open_case(
                    post.pk,
                    detection.brand_id,
                    kind,
                    incident_id=detection.incident_id,
                    automatic=True,
                )
            except WorkflowError as exc:
                outcome, note = refusal_reason(exc), str(exc)
            else:
                outcome = Triage.OPENED
        Detection.objects.filter(pk=detection.pk, triage=Triage.PENDING).update(
            triage=outcome, triage_note=note[:300]
        )
        counts[str(outcome)] = counts.get(str(outcome), 0) + 1
    return counts


def refusal_reason(exc: Exception) -> str:
    """Map the workflow's refusal to a triage reason the admin can filter on."""
    reason = getattr(exc, "reason", "")
    return reason if reason in Triage.values else Triage.ERROR
