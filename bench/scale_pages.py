"""The admin pages of ``bench/scale.py``: every changelist the team uses, with each filter
and search, and every change page (the biggest incident's too), as the demo admin.

``measure(size)`` is called with Django connected to a database built by
``bench/scale_data.py``; each row is one URL, timed through Django's test client
(server time: the request, the queries and the template, no network).
"""

from __future__ import annotations

from urllib.parse import urlencode

from bench.scale_data import Measured, biggest_incident, handle, measured

# Search terms that find as much at every size: one person's handle (their 3 posts), one
# post's number, and a common word (more than a page).
HANDLE = handle(123)
RARE_TEXT = "(post 0000777)"
COMMON_TEXT = "billing"


def pages() -> list[tuple[str, str]]:
    """(row name, URL) for every page measured, with ids read from the database."""
    from monitoring.models import Detection, Person, Post
    from outreach.models import Case, EngagementEvent, OutboundAction

    biggest = biggest_incident()
    # A case of the same kind, platform and stage, and about the same age, at every size
    # (its page shows draft, outbox and answers; an own-brand case's adds the request to
    # amend the post, two statements more), on a platform whose thread needs no server
    # of ours.
    cases = Case.objects.filter(
        stage="resolved", incident=None, kind="competitor", platform="mastodon"
    )
    case = cases.order_by("-pk").first()
    assert case is not None
    person = Person.objects.get(handle=HANDLE)
    # The newest post that came from a source (as every post of a poll does).
    post = Post.objects.filter(source__isnull=False).order_by("-pk").first()
    detection = Detection.objects.filter(incident=biggest).order_by("-pk").first()
    action = OutboundAction.objects.order_by("-pk").first()
    engagement = EngagementEvent.objects.order_by("-pk").first()
    assert post and detection and action and engagement

    def admin(path: str, **query: object) -> str:
        return f"/admin/{path}/" + (f"?{urlencode(query)}" if query else "")

    rows = [
        # The queue (outreach.Case)
        ("queue", admin("outreach/case")),
        ("queue all", admin("outreach/case", queue="all")),
        ("queue closed", admin("outreach/case", queue="closed")),
        ("queue stage=drafting", admin("outreach/case", stage__exact="drafting")),
        ("queue stage=resolved", admin("outreach/case", stage__exact="resolved")),
        ("queue brand", admin("outreach/case", queue="all", brand__id__exact=case.brand_id)),
        ("queue platform", admin("outreach/case", queue="all", platform__exact="mastodon")),
        ("queue kind", admin("outreach/case", queue="all", kind__exact="own_brand")),
        ("queue assignee=me", admin("outreach/case", queue="all", assignee="me")),
        ("queue assignee=none", admin("outreach/case", queue="all", assignee="none")),
        ("queue in incidents", admin("outreach/case", queue="all", incident="yes")),
        ("queue isolated", admin("outreach/case", queue="all", incident="no")),
        ("queue one incident", admin("outreach/case", queue="all", incident=biggest.pk)),
        ("queue amend requests", admin("outreach/case", amend="to_approve")),
        ("queue search handle", admin("outreach/case", queue="all", q=HANDLE)),
        ("queue search case id", admin("outreach/case", queue="all", q=case.pk)),
        ("case page", admin(f"outreach/case/{case.pk}/change")),
        # Detections
        ("detections", admin("monitoring/detection")),
        ("detections triage", admin("monitoring/detection", triage__exact="opened")),
        ("detections triage=error", admin("monitoring/detection", triage__exact="error")),
        ("detections complaint", admin("monitoring/detection", complaint__exact=1)),
        ("detections corrected", admin("monitoring/detection", correction__exact="complaint")),
        ("detections brand", admin("monitoring/detection", brand__id__exact=case.brand_id)),
        ("detections topic", admin("monitoring/detection", topic="billing")),
        ("detections model", admin("monitoring/detection", model_version="bench-1")),
        ("detections one incident", admin("monitoring/detection", incident__exact=biggest.pk)),
        ("detections search text", admin("monitoring/detection", q=RARE_TEXT)),
        ("detections search word", admin("monitoring/detection", q=COMMON_TEXT)),
        ("detections search handle", admin("monitoring/detection", q=HANDLE)),
        ("detection page", admin(f"monitoring/detection/{detection.pk}/change")),
        # Posts
        ("posts", admin("monitoring/post")),
        ("posts platform", admin("monitoring/post", platform__exact="bluesky")),
        ("posts source", admin("monitoring/post", source__id__exact=post.source_id)),
        ("posts search text", admin("monitoring/post", q=RARE_TEXT)),
        ("posts search word", admin("monitoring/post", q=COMMON_TEXT)),
        ("posts search handle", admin("monitoring/post", q=HANDLE)),
        ("post page", admin(f"monitoring/post/{post.pk}/change")),
        # People
        ("people", admin("monitoring/person")),
        ("people platform", admin("monitoring/person", platform__exact="mastodon")),
        ("people search", admin("monitoring/person", q=HANDLE)),
        ("person page", admin(f"monitoring/person/{person.pk}/change")),
        # Incidents
        ("incidents", admin("monitoring/incident")),
        ("incidents state", admin("monitoring/incident", state__exact="active")),
        ("incidents spike", admin("monitoring/incident", spike__exact=1)),
        ("incidents brand", admin("monitoring/incident", brand__id__exact=biggest.brand_id)),
        ("incidents topic", admin("monitoring/incident", topic=biggest.topic)),
        ("incident page, biggest", admin(f"monitoring/incident/{biggest.pk}/change")),
        # Outbox and engagement
        ("outbox", admin("outreach/outboundaction")),
        ("outbox state", admin("outreach/outboundaction", state__exact="pending")),
        ("outbox kind", admin("outreach/outboundaction", kind__exact="reply")),
        ("outbox page", admin(f"outreach/outboundaction/{action.pk}/change")),
        ("engagements", admin("outreach/engagementevent")),
        ("engagements kind", admin("outreach/engagementevent", kind__exact="reply")),
        ("engagements platform", admin("outreach/engagementevent", platform__exact="bluesky")),
        ("engagement page", admin(f"outreach/engagementevent/{engagement.pk}/change")),
        # The small tables
        ("brands", admin("monitoring/brand")),
        ("sources", admin("monitoring/source")),
        ("accounts", admin("monitoring/account")),
        ("playbooks", admin("outreach/playbook")),
        ("do-not-contact", admin("outreach/donotcontact")),
    ]
    return rows


def measure(size: int) -> list[Measured]:
    import logging

    # The case page asks the platform for the thread; without an instance it says so.
    logging.getLogger("monitoring.platforms").setLevel(logging.ERROR)
    from django.contrib.auth import get_user_model
    from django.test import Client

    admin_user = get_user_model().objects.get(username="admin")
    client = Client()
    client.force_login(admin_user)
    results = []
    for name, url in pages():

        def get(url: str = url) -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise AssertionError(f"{url}: {response.status_code}")

        results.append(measured(f"page: {name}", get))
    return results
