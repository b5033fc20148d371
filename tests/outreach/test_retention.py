"""Issue #14: the retention tick purges posts and people that no open case needs.

Everything is made now and the tick is run as if ``NOJACKAL_RETENTION_DAYS`` (90)
and a few more had passed (``purge(now=LATER)``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from monitoring.models import Detection, Person, Post
from outreach import retention, tasks, workflow
from outreach.models import CaseEvent, DoNotContact, OutboundAction, Playbook, Stage
from tests.factories import DetectionFactory
from tests.outreach.factories import COMPLAINT, PersonFactory, PostFactory

LATER = timezone.now() + dt.timedelta(days=100)


def _post(person: Person | None = None, **fields: Any) -> Post:
    fields.setdefault("posted_at", timezone.now() - dt.timedelta(hours=1))
    if person is not None:
        fields["author"] = person
    return PostFactory(text=COMPLAINT, **fields)


def test_a_post_no_case_needs_is_deleted_with_its_detection_and_its_author(db: None) -> None:
    post = _post()
    DetectionFactory(post=post)
    assert retention.purge(now=LATER)["posts_deleted"] == 1
    assert not Post.objects.filter(pk=post.pk).exists()
    assert not Detection.objects.filter(post_id=post.pk).exists()
    assert not Person.objects.filter(pk=post.author_id).exists()


def test_nothing_younger_than_the_retention_period_is_touched(db: None, settings: Any) -> None:
    settings.NOJACKAL_RETENTION_DAYS = 120
    post = _post()
    assert retention.purge(now=LATER) == dict.fromkeys(
        ("posts_deleted", "posts_emptied", "people_deleted", "people_emptied"), 0
    )
    assert Post.objects.get(pk=post.pk).text == COMPLAINT


def test_the_post_and_person_of_an_open_case_are_kept_and_their_other_posts_go(
    advance: Any,
) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    other = _post(case.person)
    retention.purge(now=LATER)
    post = Post.objects.get(pk=case.post_id)
    assert post.text == COMPLAINT and post.redacted_at is None
    assert Person.objects.get(pk=case.person_id).handle == case.person.handle
    assert not Post.objects.filter(pk=other.pk).exists()


def test_a_case_closed_long_ago_keeps_its_skeleton_with_an_empty_post_and_person(
    advance: Any, analyst: Any, reviewer: Any
) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    workflow.opt_out(case, actor=reviewer, reason="leave me alone")
    handle, external_id = case.person.handle, case.person.external_id
    events = CaseEvent.objects.filter(case=case).count()

    counts = retention.purge(now=LATER)

    assert counts["posts_emptied"] == 1 and counts["people_emptied"] == 1
    post = Post.objects.get(pk=case.post_id)
    assert (post.text, post.raw, post.url) == ("", {}, "")
    assert post.external_id.startswith("retired-")
    person = Person.objects.get(pk=case.person_id)
    assert (person.handle, person.display_name) == ("", "")
    # The audit skeleton and the do-not-contact list are not retention's to touch.
    assert CaseEvent.objects.filter(case=case).count() == events
    assert OutboundAction.objects.get(case=case, kind="reply").text
    assert DoNotContact.objects.filter(handle=handle, person_external_id=external_id).exists()
    assert workflow.dnc_entry("sandbox", external_id, "") is not None


def test_a_recently_closed_case_keeps_its_post_and_person(advance: Any, analyst: Any) -> None:
    case = advance(Stage.RESEARCHING)
    workflow.dismiss(case, actor=analyst, reason="not a complaint after all")
    Post.objects.filter(pk=case.post_id).update(fetched_at=LATER - dt.timedelta(days=100))
    # The post is old, but the case closed only 89 days before the tick.
    retention.purge(now=timezone.now() + dt.timedelta(days=89))
    assert Post.objects.get(pk=case.post_id).text == COMPLAINT
    assert Person.objects.get(pk=case.person_id).handle == case.person.handle


def test_a_person_is_kept_while_a_playbook_cooldown_still_needs_them(
    advance: Any, analyst: Any, playbook: Playbook
) -> None:
    Playbook.objects.filter(pk=playbook.pk).update(cooldown_days=200)
    case = advance(Stage.RESEARCHING)
    workflow.dismiss(case, actor=analyst, reason="not a complaint after all")
    retention.purge(now=LATER)
    assert Person.objects.get(pk=case.person_id).handle == case.person.handle


def test_a_person_who_posted_recently_keeps_their_name(advance: Any, analyst: Any) -> None:
    case = advance(Stage.RESEARCHING)
    workflow.dismiss(case, actor=analyst, reason="not a complaint after all")
    _post(case.person, fetched_at=LATER - dt.timedelta(days=1))
    retention.purge(now=LATER)
    assert Person.objects.get(pk=case.person_id).handle == case.person.handle


def test_the_purge_goes_in_bounded_batches_and_is_safe_to_repeat(db: None) -> None:
    person = PersonFactory()
    posts = [_post(person) for _ in range(5)]

    with CaptureQueriesContext(connection) as queries:
        counts = retention.purge(now=LATER, batch=2)

    deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "monitoring_post"')]
    assert len(deletes) == 3  # 2 + 2 + 1, never one statement for all
    assert counts["posts_deleted"] == 5 and counts["people_deleted"] == 1
    assert not Post.objects.filter(pk__in=[p.pk for p in posts]).exists()
    assert set(retention.purge(now=LATER).values()) == {0}


def test_the_tick_runs_the_purge(db: None, settings: Any) -> None:
    settings.NOJACKAL_RETENTION_DAYS = 1
    post = _post(fetched_at=timezone.now() - dt.timedelta(days=2))
    assert tasks.purge_expired_data()["posts_deleted"] == 1
    assert not Post.objects.filter(pk=post.pk).exists()
    assert "purge-expired-data" in settings.CELERY_BEAT_SCHEDULE
