"""Admin pages whose cost does not grow with history (issue #15).

Every page of ``bench/scale_pages.py`` and ``bench/scale_dashboard.py``, with each
filter and search the benchmark times, keeps its query count when the history
grows tenfold (the timings are the benchmark's business, never a test's); the
incident page shows its latest complaints and links to the rest; searches find
what they should with the lookups their indexes answer; the unfiltered lists are
counted from the planner's estimate.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring import incidents
from monitoring.models import (
    Account,
    Brand,
    Detection,
    Incident,
    IncidentHour,
    Post,
    Source,
)
from monitoring.paging import HistoryPaginator
from outreach import workflow
from outreach.models import Case, EngagementEvent, OutboundAction, Playbook
from tests.factories import DetectionFactory, IncidentFactory
from tests.outreach.conftest import Advance
from tests.outreach.factories import CaseFactory, PersonFactory, PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(admin_user: Any) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


class History:
    """A history that grows: posts with complaints in one incident, and cases worked
    through the real workflow up to engagement (replies sent, answers recorded)."""

    def __init__(self, advance: Advance, brand: Brand) -> None:
        self.advance = advance
        self.brand = brand
        self.source = Source.objects.create(name="s", platform="sandbox", brand=brand, terms=["t"])
        self.made = 0
        # Ten replies within the hour: above the demo caps, within the ceilings.
        Playbook.objects.update(max_replies_per_account_per_hour=20)
        Account.objects.update(max_sends_per_hour=20)

    def grow(self, posts: int) -> None:
        now = timezone.now()
        new = []
        for i in range(posts):
            self.made += 1
            post = PostFactory(
                text=f"Telvana billing broke again, day {self.made}",
                posted_at=now - dt.timedelta(minutes=self.made),
                source=self.source,
            )
            new.append(
                Detection.objects.create(
                    post=post,
                    brand=self.brand,
                    posted_at=post.posted_at,
                    complaint=True,
                    score=0.9,
                    topic="billing",
                    model_version="test",
                ).pk
            )
            if i % 3 == 0:
                self.advance("engaged", post=post)
        incidents.assign(new)


def pages() -> list[tuple[str, str]]:
    """The benchmark's pages, with ids from the test's history."""
    incident = Incident.objects.order_by("pk").first()
    case = Case.objects.order_by("pk").first()
    assert incident and case
    handle = case.person.handle
    post = Post.objects.order_by("pk").first()
    detection = Detection.objects.order_by("pk").first()
    action = OutboundAction.objects.order_by("pk").first()
    engagement = EngagementEvent.objects.order_by("pk").first()
    assert post and detection and action and engagement

    def admin(path: str, **query: object) -> str:
        return f"/admin/{path}/" + (f"?{urlencode(query)}" if query else "")

    today = timezone.now().date()
    week = {"start": (today - dt.timedelta(days=6)).isoformat(), "end": today.isoformat()}
    return [
        ("queue", admin("outreach/case")),
        ("queue all", admin("outreach/case", queue="all")),
        ("queue closed", admin("outreach/case", queue="closed")),
        ("queue stage", admin("outreach/case", stage__exact="engaged")),
        ("queue stage closed", admin("outreach/case", stage__exact="resolved")),
        ("queue brand", admin("outreach/case", queue="all", brand__id__exact=case.brand_id)),
        ("queue platform", admin("outreach/case", queue="all", platform__exact="mastodon")),
        ("queue kind", admin("outreach/case", queue="all", kind__exact="own_brand")),
        ("queue assignee", admin("outreach/case", queue="all", assignee="me")),
        ("queue assignee none", admin("outreach/case", queue="all", assignee="none")),
        ("queue in incidents", admin("outreach/case", queue="all", incident="yes")),
        ("queue isolated", admin("outreach/case", queue="all", incident="no")),
        ("queue one incident", admin("outreach/case", queue="all", incident=incident.pk)),
        ("queue amend", admin("outreach/case", amend="to_approve")),
        ("queue search handle", admin("outreach/case", queue="all", q=handle)),
        ("queue search id", admin("outreach/case", queue="all", q=case.pk)),
        ("case page", admin(f"outreach/case/{case.pk}/change")),
        ("detections", admin("monitoring/detection")),
        ("detections triage", admin("monitoring/detection", triage__exact="pending")),
        ("detections triage error", admin("monitoring/detection", triage__exact="error")),
        ("detections complaint", admin("monitoring/detection", complaint__exact=1)),
        ("detections corrected", admin("monitoring/detection", correction__exact="complaint")),
        ("detections brand", admin("monitoring/detection", brand__id__exact=case.brand_id)),
        ("detections topic", admin("monitoring/detection", topic="billing")),
        ("detections model", admin("monitoring/detection", model_version="test")),
        ("detections one incident", admin("monitoring/detection", incident__exact=incident.pk)),
        ("detections search", admin("monitoring/detection", q="billing")),
        ("detections search phrase", admin("monitoring/detection", q="again, day 2")),
        ("detections search handle", admin("monitoring/detection", q=handle)),
        ("detection page", admin(f"monitoring/detection/{detection.pk}/change")),
        ("posts", admin("monitoring/post")),
        ("posts platform", admin("monitoring/post", platform__exact="bluesky")),
        ("posts source", admin("monitoring/post", source__id__exact=post.source_id)),
        ("posts search", admin("monitoring/post", q="billing")),
        ("posts search phrase", admin("monitoring/post", q="again, day 2")),
        ("posts search handle", admin("monitoring/post", q=handle)),
        ("post page", admin(f"monitoring/post/{post.pk}/change")),
        ("people", admin("monitoring/person")),
        ("people platform", admin("monitoring/person", platform__exact="mastodon")),
        ("people search", admin("monitoring/person", q=handle)),
        ("person page", admin(f"monitoring/person/{post.author_id}/change")),
        ("incidents", admin("monitoring/incident")),
        ("incidents state", admin("monitoring/incident", state__exact="active")),
        ("incidents spike", admin("monitoring/incident", spike__exact=1)),
        ("incidents brand", admin("monitoring/incident", brand__id__exact=incident.brand_id)),
        ("incidents topic", admin("monitoring/incident", topic="billing")),
        ("incident page", admin(f"monitoring/incident/{incident.pk}/change")),
        ("outbox", admin("outreach/outboundaction")),
        ("outbox state", admin("outreach/outboundaction", state__exact="sent")),
        ("outbox kind", admin("outreach/outboundaction", kind__exact="reply")),
        ("outbox page", admin(f"outreach/outboundaction/{action.pk}/change")),
        ("engagements", admin("outreach/engagementevent")),
        ("engagements kind", admin("outreach/engagementevent", kind__exact="reply")),
        ("engagements platform", admin("outreach/engagementevent", platform__exact="bluesky")),
        ("engagement page", admin(f"outreach/engagementevent/{engagement.pk}/change")),
        ("brands", admin("monitoring/brand")),
        ("sources", admin("monitoring/source")),
        ("accounts", admin("monitoring/account")),
        ("playbooks", admin("outreach/playbook")),
        ("do-not-contact", admin("outreach/donotcontact")),
        # The dashboard rows of bench/scale_dashboard.py.
        ("admin home", "/admin/"),
        ("dashboard", "/admin/dashboard/"),
        ("dashboard week", "/admin/dashboard/?" + urlencode(week)),
        ("dashboard csv", "/admin/dashboard/?export=funnel"),
    ]


def query_counts(client: Client, urls: list[tuple[str, str]]) -> dict[str, int]:
    counts = {}
    for name, url in urls:
        client.get(url)  # once first: caches that fill on a first visit are no growth
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(queries)
    return counts


def test_every_page_keeps_its_query_count_when_the_history_grows_tenfold(
    boss: Client, advance: Advance, competitor: Brand
) -> None:
    history = History(advance, competitor)
    history.grow(3)
    urls = pages()
    few = query_counts(boss, urls)
    history.grow(27)
    assert Detection.objects.count() == 30
    assert query_counts(boss, urls) == few


def test_the_incident_page_shows_its_latest_complaints_and_links_to_all_of_them(
    boss: Client, competitor: Brand
) -> None:
    now = timezone.now()
    ids = [
        Detection.objects.create(
            post=PostFactory(text=f"complaint number {i}", posted_at=now - dt.timedelta(minutes=i)),
            brand=competitor,
            posted_at=now - dt.timedelta(minutes=i),
            complaint=True,
            score=0.9,
            topic="outage",
            model_version="test",
        ).pk
        for i in range(25)
    ]
    incidents.assign(ids)
    incident = Incident.objects.get()
    body = boss.get(reverse("admin:monitoring_incident_change", args=[incident.pk])).content
    page = body.decode()
    assert "complaint number 0<" in page  # the newest
    assert "complaint number 19<" in page
    assert "complaint number 20<" not in page  # beyond the latest 20
    link = reverse("admin:monitoring_detection_changelist") + f"?incident__exact={incident.pk}"
    assert f'href="{link}">All 25 complaints' in page.replace("&amp;", "&")
    listed = boss.get(link + "&all=").context["cl"].result_count
    assert listed == 25


def test_the_incident_chart_reads_the_hourly_rollup_not_the_detections(competitor: Brand) -> None:
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=3)
    ids = [
        Detection.objects.create(
            post=PostFactory(posted_at=start + dt.timedelta(minutes=25 * i)),
            brand=competitor,
            posted_at=start + dt.timedelta(minutes=25 * i),
            complaint=True,
            score=0.9,
            topic="outage",
            model_version="test",
        ).pk
        for i in range(6)  # minutes 0, 25, 50 | 75, 100 | 125
    ]
    incidents.assign(ids)
    incident = Incident.objects.get()
    assert sorted(IncidentHour.objects.values_list("count", flat=True)) == [1, 2, 3]
    # Deleting the detections leaves the chart as it was: it never reads them.
    Detection.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        chart = incidents.hourly_volume(incident)
    assert [n for _, n in chart] == [3, 2, 1]
    assert len(queries) == 1


def test_the_queue_finds_a_case_by_its_id_not_by_ids_containing_it(
    boss: Client, competitor: Brand
) -> None:
    cases = CaseFactory.create_batch(12, brand=competitor)
    wanted = cases[1]
    url = reverse("admin:outreach_case_changelist")
    found = boss.get(url, {"queue": "all", "q": str(wanted.pk)}).context["cl"].result_list
    assert [c.pk for c in found] == [wanted.pk]


def test_the_queue_finds_an_incidents_cases_by_the_incidents_id(
    boss: Client, competitor: Brand
) -> None:
    incident = Incident.objects.create(
        brand=competitor, topic="outage", first_seen_at=timezone.now(), last_seen_at=timezone.now()
    )
    mine = CaseFactory.create_batch(2, brand=competitor, incident=incident)
    CaseFactory.create_batch(3, brand=competitor)
    url = reverse("admin:outreach_case_changelist")
    found = boss.get(url, {"queue": "all", "q": str(incident.pk)}).context["cl"].result_list
    assert {c.pk for c in mine} <= {c.pk for c in found}
    assert {c.pk for c in found} - {c.pk for c in mine} <= {incident.pk}  # a case of that id


def test_the_queue_finds_a_handle_exactly_whatever_its_case(
    boss: Client, competitor: Brand
) -> None:
    mine = CaseFactory(post=PostFactory(author=PersonFactory(handle="Dana_K")), brand=competitor)
    CaseFactory(post=PostFactory(author=PersonFactory(handle="dana_kx")), brand=competitor)
    url = reverse("admin:outreach_case_changelist")
    for term in ("dana_k", "@DANA_K"):
        found = boss.get(url, {"queue": "all", "q": term}).context["cl"].result_list
        assert [c.pk for c in found] == [mine.pk], term
    assert not boss.get(url, {"queue": "all", "q": "dana"}).context["cl"].result_list


def test_the_post_list_finds_by_text_author_handle_or_exact_external_id(boss: Client) -> None:
    by_text = PostFactory(text="the router melted", external_id="x-1")
    by_author = PostFactory(text="nothing", author=PersonFactory(handle="meltdown_max"))
    PostFactory(text="unrelated", external_id="x-10")
    url = reverse("admin:monitoring_post_changelist")

    def found(term: str) -> set[int]:
        return {p.pk for p in boss.get(url, {"q": term}).context["cl"].result_list}

    assert found("MELT") == {by_text.pk, by_author.pk}
    assert found("x-1") == {by_text.pk}  # an external id is exact
    assert found("router melted") == {by_text.pk}  # every word must match
    assert found("100%") == set()  # LIKE's wildcards are plain characters here


def test_the_people_list_finds_by_handle_name_or_exact_external_id(boss: Client) -> None:
    dana = PersonFactory(handle="dana", display_name="Dana Scully", external_id="42")
    PersonFactory(handle="fox", display_name="Fox Mulder", external_id="420")
    url = reverse("admin:monitoring_person_changelist")

    def found(term: str) -> set[int]:
        return {p.pk for p in boss.get(url, {"q": term}).context["cl"].result_list}

    assert found("scul") == {dana.pk}
    assert found("42") == {dana.pk}


def test_the_detection_list_finds_by_the_posts_text_or_its_authors_handle(
    boss: Client, competitor: Brand
) -> None:
    def detect(post: Post) -> Detection:
        return Detection.objects.create(
            post=post,
            brand=competitor,
            posted_at=post.posted_at,
            complaint=True,
            score=0.9,
            topic="outage",
            model_version="test",
        )

    by_text = detect(PostFactory(text="modem on fire"))
    by_author = detect(PostFactory(text="meh", author=PersonFactory(handle="firestarter")))
    detect(PostFactory(text="calm"))
    url = reverse("admin:monitoring_detection_changelist")
    found = {d.pk for d in boss.get(url, {"q": "fire"}).context["cl"].result_list}
    assert found == {by_text.pk, by_author.pk}


def test_an_unfiltered_list_beyond_the_cap_is_counted_from_the_planners_estimate() -> None:
    class SmallCap(HistoryPaginator):
        CAP = 2

    PostFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitoring_post")
    PostFactory.create_batch(2)  # not in the estimate yet
    posts = Post.objects.order_by("pk")
    assert SmallCap(posts, 100).count == 3  # the estimate, not a count of 5
    assert SmallCap(posts, 100).count_label == "about 3"  # said so, even asked first
    # Below the cap, and for a filtered list, the count is exact (capped).
    assert HistoryPaginator(posts, 100).count == 5
    assert SmallCap(posts.filter(lang=""), 100).count == 2
    assert HistoryPaginator(posts.filter(lang="zz"), 100).count == 0


def test_a_searched_list_beyond_the_cap_says_so_rather_than_showing_the_cap_as_exact(
    boss: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HistoryPaginator, "CAP", 2)
    for i in range(3):
        PostFactory(text=f"billing broke {i}")
    PostFactory(text="calm")
    url = reverse("admin:monitoring_post_changelist")
    assert '<p class="paginator">\n\n2+ posts' in boss.get(url, {"q": "billing"}).content.decode()
    # Below the cap the count is exact.
    assert '<p class="paginator">\n\n1 post' in boss.get(url, {"q": "calm"}).content.decode()


def test_the_incident_page_counts_open_cases_per_stage_and_caps_the_closed_count(
    boss: Client, advance: Advance, competitor: Brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an incident with two cases being researched and three dismissed
    incident = IncidentFactory(brand=competitor)
    cases = [
        advance("researching", post=PostFactory(text=f"Telvana billing broke, {i}"))
        for i in range(5)
    ]
    for case in cases[2:]:
        workflow.dismiss(case, actor=None, reason="not about us after all")
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(incident=incident)
    url = reverse("admin:monitoring_incident_change", args=[incident.pk])
    # When the team opens the incident's page
    page = boss.get(url).content.decode()
    # Then the open ones are counted per stage, and the closed ones
    assert "2 researching" in page and "3 closed" in page
    # and past the cap the closed count says it stopped there
    monkeypatch.setattr(admin.site._registry[Incident], "CLOSED_SHOWN", 2)
    assert "2+ closed" in boss.get(url).content.decode()


def test_the_incident_chart_folds_hours_into_at_most_its_bars_however_long_it_ran(
    boss: Client, competitor: Brand
) -> None:
    # Given an incident whose complaints span ten days (240 hours)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=10)
    ids = [
        DetectionFactory(
            post=PostFactory(posted_at=start + dt.timedelta(hours=h)), brand=competitor
        ).pk
        for h in range(0, 241, 2)
    ]
    incidents.assign(ids)
    incident = Incident.objects.get()
    assert incident.volume == len(ids)
    # When its page is opened
    page = boss.get(reverse("admin:monitoring_incident_change", args=[incident.pk])).content
    body = page.decode()
    # Then the chart has at most CHART_BARS bars of three hours, holding every complaint
    bars = re.findall(r"<title>[^<]*: (\d+)</title></rect>", body)
    assert 0 < len(bars) <= admin.site._registry[Incident].CHART_BARS
    assert "complaints per 3 hours" in body
    assert sum(int(n) for n in bars) == len(ids)


def test_the_detection_list_does_not_read_the_posts_raw_payloads(
    boss: Client, competitor: Brand
) -> None:
    DetectionFactory(
        post=PostFactory(text="Telvana billing broke", raw={"big": "x" * 5000}), brand=competitor
    )
    with CaptureQueriesContext(connection) as queries:
        body = boss.get(reverse("admin:monitoring_detection_changelist")).content.decode()
    assert "Telvana billing broke" in body
    assert not [q["sql"] for q in queries if '"monitoring_post"."raw"' in q["sql"]]
