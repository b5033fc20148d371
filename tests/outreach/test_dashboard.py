"""The dashboard: each panel's figures on a small known data set, the links behind them,
CSV export, bad input, permissions and a query count that does not grow with the data."""

from __future__ import annotations

import csv
import datetime as dt
import io
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Brand, BrandDay, Detection, Incident
from outreach import dashboard, workflow
from outreach.admin.dashboard import detections_url, queue_url, safe_cell
from outreach.models import Case, PlaybookKind, Stage
from tests.factories import AccountFactory, BrandFactory, PostFactory
from tests.outreach.factories import COMPLAINT, PlaybookFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.now().astimezone(dt.UTC).date()
PERIOD = dashboard.Period(TODAY - dt.timedelta(days=6), TODAY)


@pytest.fixture
def playbook(db):
    """Caps high enough for the handful of replies these tests send within the hour."""
    return PlaybookFactory(
        kind=PlaybookKind.COMPETITOR, version=1, four_eyes=True, max_replies_per_account_per_hour=30
    )


@pytest.fixture
def account(db):
    return AccountFactory(max_sends_per_hour=30)


@pytest.fixture
def client_for():
    def _client(user):
        client = Client()
        client.force_login(user)
        return client

    return _client


@pytest.fixture
def known(advance, competitor):
    """Five competitor cases at known stages, one blocked and one stopped after our reply."""
    cases = {
        stage: advance(stage)
        for stage in (
            Stage.NEW,
            Stage.DRAFTING,
            Stage.AWAITING_ENGAGEMENT,
            Stage.ENGAGED,
            Stage.FOLLOWED,
        )
    }
    blocked = advance(Stage.AWAITING_ENGAGEMENT)
    workflow.record_engagement(
        blocked, kind="block", external_id="b-1", occurred_at=timezone.now(), text=""
    )
    stopped = advance(Stage.AWAITING_ENGAGEMENT)
    workflow.record_engagement(
        stopped, kind="reply", external_id="s-1", occurred_at=timezone.now(), text="stop"
    )
    for case in (blocked, stopped):
        case.refresh_from_db()
        assert case.stage == Stage.OPTED_OUT
    cases["blocked"] = blocked
    cases["stopped"] = stopped
    return cases


def selected(client, url):
    """The case ids the queue shows for ``url`` (its result list)."""
    response = client.get(url)
    assert response.status_code == 200, url
    return {obj.pk for obj in response.context["cl"].result_list}


def test_the_funnel_counts_each_step_and_links_to_exactly_those_cases(
    known, admin_user, client_for, competitor
):
    BrandDay.objects.create(brand=competitor, day=TODAY, mentions=40, complaints=9)
    rows = [r for r in dashboard.funnel(PERIOD) if r["kind_code"] == PlaybookKind.COMPETITOR]
    counts = {r["step"]: r["count"] for r in rows}
    assert counts == {
        "Detected": 9,
        "Case": 7,
        "Researched": 6,
        "Replied": 5,
        "Engaged": 2,
        "Followed": 1,
    }
    conversion = {r["step"]: r["conversion"] for r in rows}
    assert conversion["Case"] == 78 and conversion["Replied"] == 83
    client = client_for(admin_user)
    expected = {
        "Case": set(Case.objects.values_list("pk", flat=True)),
        "Replied": {
            known[s].pk
            for s in (
                Stage.AWAITING_ENGAGEMENT,
                Stage.ENGAGED,
                Stage.FOLLOWED,
                "blocked",
                "stopped",
            )
        },
        "Followed": {known[Stage.FOLLOWED].pk},
    }
    for row in rows:
        if row["step"] in expected:
            assert selected(client, queue_url(row["link"])) == expected[row["step"]], row["step"]
    own = [r for r in dashboard.funnel(PERIOD) if r["kind_code"] == PlaybookKind.OWN_BRAND]
    assert {r["count"] for r in own} == {0}


def test_the_jackal_panel_counts_blocks_and_stops_and_warns_over_the_threshold(
    known, admin_user, client_for, playbook
):
    (week,) = [w for w in dashboard.jackals(PERIOD)["weeks"] if w["replied"]]
    measures = {m["key"]: m for m in week["measures"]}
    assert week["replied"] == 5
    assert measures["opted_out"]["count"] == 2 and measures["opted_out"]["rate"] == 40.0
    assert measures["blocked"]["count"] == 1 and measures["stopped"]["count"] == 1
    assert measures["opted_out"]["threshold"] == playbook.alert_opt_out_percent == 5
    assert measures["opted_out"]["crossed"] and not measures["no_response"]["crossed"]
    client = client_for(admin_user)
    assert selected(client, queue_url(measures["blocked"]["link"])) == {known["blocked"].pk}
    assert selected(client, queue_url(measures["stopped"]["link"])) == {known["stopped"].pk}
    assert selected(client, queue_url(measures["opted_out"]["link"])) == {
        known["blocked"].pk,
        known["stopped"].pk,
    }
    page = client.get(reverse("admin:dashboard")).content.decode()
    assert "over the playbook&#x27;s limit" in page or "over the playbook's limit" in page


def test_replies_per_incident_count_the_replied_cases_of_each_incident(
    advance, competitor, playbook
):
    from tests.factories import IncidentFactory
    from tests.outreach.conftest import send_reply

    first, second = IncidentFactory(brand=competitor), IncidentFactory(brand=competitor)
    # Three replied cases in two incidents, one case of an incident not replied to yet.
    for incident in (first, first, second, second):
        case = advance(Stage.APPROVED)
        Case.objects.filter(pk=case.pk).update(incident=incident)
        if not (incident == second and Case.objects.filter(incident=second).count() == 2):
            send_reply(case)
    type(playbook).objects.filter(pk=playbook.pk).update(max_replies_per_incident=1)
    (week,) = [w for w in dashboard.jackals(PERIOD)["weeks"] if w["replied"]]
    assert week["replied"] == 3
    assert week["per_incident"] == 1.5
    assert week["per_incident_threshold"] == 1 and week["per_incident_crossed"]


def test_complaints_per_brand_share_rate_and_incidents(admin_user, client_for):
    ours = BrandFactory(name="Northwind", kind=Brand.Kind.OWN)
    theirs = BrandFactory(name="Telvana", kind=Brand.Kind.COMPETITOR)
    BrandDay.objects.create(brand=ours, day=TODAY, mentions=200, complaints=5)
    BrandDay.objects.create(brand=theirs, day=TODAY, mentions=100, complaints=15)
    BrandDay.objects.create(brand=theirs, day=TODAY - dt.timedelta(days=30), complaints=99)
    incident = Incident.objects.create(
        brand=theirs, topic="outage", first_seen_at=timezone.now(), last_seen_at=timezone.now()
    )
    data = dashboard.complaints(PERIOD)
    rows = {r["brand"].name: r for r in data["rows"]}
    assert rows["Northwind"]["share"] == 25.0 and rows["Telvana"]["share"] == 75.0
    assert rows["Northwind"]["per_thousand"] == 25.0 and rows["Telvana"]["per_thousand"] == 150.0
    assert rows["Telvana"]["series"][-1] == 15
    assert [pk for _, pk, _ in rows["Telvana"]["incidents"]] == [incident.pk]
    page = client_for(admin_user).get(reverse("admin:dashboard")).content.decode()
    assert reverse("admin:monitoring_incident_change", args=[incident.pk]) in page
    assert "<polyline" in page


def test_brand_days_are_counted_as_posts_are_judged():
    from monitoring import rollups

    a, b = BrandFactory(), BrandFactory()
    now = timezone.now()
    rollups.count_detections([(now, a.pk, True, [a.pk, b.pk]), (now, a.pk, False, [a.pk])])
    rollups.count_detections([(now, b.pk, True, [b.pk])])
    days = {d.brand_id: (d.mentions, d.complaints) for d in BrandDay.objects.all()}
    assert days == {a.pk: (2, 1), b.pk: (2, 1)}


def test_own_brand_service_counts_cases_past_and_near_due_and_links_to_them(
    own_brand, own_playbook, admin_user, client_for
):
    late = workflow.open_case(PostFactory(text=COMPLAINT).pk, own_brand.pk, PlaybookKind.OWN_BRAND)
    near = workflow.open_case(PostFactory(text=COMPLAINT).pk, own_brand.pk, PlaybookKind.OWN_BRAND)
    workflow.open_case(PostFactory(text=COMPLAINT).pk, own_brand.pk, PlaybookKind.OWN_BRAND)
    now = timezone.now()
    Case.objects.filter(pk=late.pk).update(due_at=now - dt.timedelta(minutes=5))
    Case.objects.filter(pk=near.pk).update(due_at=now + dt.timedelta(minutes=30))
    data = dashboard.service(PERIOD, now=now)
    assert (data["overdue"], data["soon"], data["sla_hours"]) == (1, 1, 2)
    client = client_for(admin_user)
    assert selected(client, queue_url(data["overdue_link"])) == {late.pk}
    assert selected(client, queue_url(data["soon_link"])) == {near.pk}


def test_hours_are_binned_by_the_quarter_hour_then_the_hour_and_read_back_within_a_bin():
    from outreach import rollups

    assert rollups.hour_bin(0) == 0 and rollups.hour_bin(-1) == 0
    assert rollups.hour_bin(0.25) == 0 and rollups.hour_bin(0.26) == 1
    assert rollups.HOUR_EDGES[rollups.hour_bin(30.5)] == 31
    assert rollups.hour_bin(10_000) == len(rollups.HOUR_EDGES)
    hours = [0.1, 0.3, 0.6, 1.1, 1.9, 2.2, 3.7, 6.5, 20.0, 47.0]
    bins: dict[int, int] = {}
    for h in hours:
        bins[rollups.hour_bin(h)] = bins.get(rollups.hour_bin(h), 0) + 1
    median = rollups.binned_percentile(bins, 0.5)
    assert median is not None and abs(median - 2.05) <= 0.25
    p90 = rollups.binned_percentile(bins, 0.9)
    assert p90 is not None and 19 <= p90 <= 20
    assert rollups.binned_percentile({}, 0.5) is None
    assert rollups.binned_percentile({len(rollups.HOUR_EDGES): 3}, 0.5) == rollups.HOUR_EDGES[-1]


def test_time_to_first_reply_is_read_from_the_bins_the_workflow_counts(
    own_brand, own_playbook, admin_user
):
    from outreach import rollups
    from outreach.models import CaseDay

    case = workflow.open_case(PostFactory(text=COMPLAINT).pk, own_brand.pk, PlaybookKind.OWN_BRAND)
    day = case.opened_at.astimezone(dt.UTC).date()
    # Four own-brand cases answered in 30 min, 1 h 10, 3 h and 9 h (counted as the workflow
    # would have: one first reply each, in its bin of hours).
    for hours in (0.5, 1.1, 3.0, 9.0):
        CaseDay.objects.create(
            day=day,
            brand=own_brand,
            kind=PlaybookKind.OWN_BRAND,
            step=rollups.FIRST_REPLY + str(rollups.hour_bin(hours)),
            count=1,
        )
    (week,) = [w for w in dashboard.service(PERIOD)["weeks"] if w["replies"]]
    assert week["replies"] == 4
    assert 1.0 <= week["median_hours"] <= 3.0
    assert 8.0 <= week["p90_hours"] <= 9.0
    assert week["over_sla"]  # the playbook answers within 2 h


def test_time_in_each_stage_and_approvals_are_counted_for_the_member_of_staff(
    advance, analyst, reviewer
):
    from outreach import rollups
    from outreach.models import StaffDay

    advance(Stage.AWAITING_ENGAGEMENT)
    counted = {
        (user, measure): n
        for user, measure, n in StaffDay.objects.values_list("user_id", "measure", "count")
    }
    assert counted[(reviewer.pk, rollups.APPROVED)] == 1
    for stage in (Stage.NEW, Stage.RESEARCHING, Stage.DRAFTING, Stage.AWAITING_APPROVAL):
        assert counted[(analyst.pk, stage)] == 1, stage
    (row,) = [r for r in dashboard.workload(PERIOD) if r["user"] == reviewer]
    assert row["approvals"] == 1


def test_weeks_start_on_monday_and_cover_the_period():
    weeks = dashboard._weeks(dashboard.Period(dt.date(2026, 11, 25), dt.date(2026, 12, 1)))
    assert weeks == [dt.date(2026, 11, 23), dt.date(2026, 11, 30)]


def test_workload_counts_open_cases_and_drafts_awaiting_approval(
    advance, analyst, admin_user, client_for
):
    waiting = advance(Stage.AWAITING_APPROVAL)
    researching = advance(Stage.RESEARCHING)
    (row,) = [r for r in dashboard.workload(PERIOD) if r["user"] == analyst]
    assert (row["open"], row["awaiting"]) == (2, 1)
    assert Stage.NEW in row["medians"]
    client = client_for(admin_user)
    assert selected(client, queue_url({"queue": "all", **row["open_link"]})) == {
        waiting.pk,
        researching.pk,
    }
    assert selected(client, queue_url(row["awaiting_link"])) == {waiting.pk}


@pytest.mark.parametrize("panel", ["funnel", "complaints", "service", "jackals", "workload"])
def test_each_panel_exports_csv(panel, known, admin_user, client_for, competitor):
    BrandDay.objects.create(brand=competitor, day=TODAY, mentions=10, complaints=3)
    response = client_for(admin_user).get(reverse("admin:dashboard") + f"?export={panel}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="nojackal-{panel}.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) > 1 and rows[0][0] in {"kind", "brand", "week", "user"}


def test_csv_cells_cannot_be_formulas(admin_user, client_for):
    hostile = BrandFactory(name='=HYPERLINK("http://evil.example","x")')
    BrandDay.objects.create(brand=hostile, day=TODAY, mentions=1, complaints=1)
    body = client_for(admin_user).get(reverse("admin:dashboard") + "?export=complaints")
    rows = list(csv.reader(io.StringIO(body.content.decode())))
    assert rows[1][0] == "'" + hostile.name
    assert [safe_cell(v) for v in ("+1", "-1", "@x", "ok", 3, None)] == [
        "'+1",
        "'-1",
        "'@x",
        "ok",
        "3",
        "",
    ]


@pytest.mark.parametrize(
    "query, message",
    [
        ({"start": "yesterday"}, "must look like"),
        ({"start": "2026-11-30", "end": "2026-11-01"}, "ends before it starts"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "at most 366 days"),
        ({"brand": "x'; drop"}, "Choose brands from the list"),
        ({"brand": "999999"}, "Choose brands from the list"),
    ],
)
def test_a_bad_period_or_brand_says_so_without_failing(query, message, admin_user, client_for):
    client = client_for(admin_user)
    response = client.get(reverse("admin:dashboard") + "?" + urlencode(query))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert client.get(reverse("admin:dashboard") + "?export=nope").status_code == 400
    export = client.get(reverse("admin:dashboard") + "?" + urlencode({**query, "export": "funnel"}))
    assert export.status_code == 400


def test_a_bad_dashboard_link_selects_nothing(known, admin_user, client_for):
    client = client_for(admin_user)
    base = reverse("admin:outreach_case_changelist") + "?queue=all&"
    assert selected(client, base + "reached=nonsense") == set()
    assert selected(client, base + "opened_from=garbage") == set()
    assert selected(client, base + "brands=1,x") == set()


def test_a_chosen_brand_narrows_every_panel(known, competitor, admin_user, client_for):
    other = BrandFactory(name="Quickline")
    period = dashboard.Period(PERIOD.start, PERIOD.end, (other.pk,))
    assert all(r["count"] == 0 for r in dashboard.funnel(period))
    page = client_for(admin_user).get(
        reverse("admin:dashboard") + f"?brand={competitor.pk}&brand={other.pk}"
    )
    assert page.status_code == 200
    assert page.context["period"].brand_ids == tuple(sorted((competitor.pk, other.pk)))


@pytest.mark.parametrize("who", ["analyst", "reviewer", "admin_user"])
def test_every_team_member_sees_the_dashboard_at_home_and_at_its_address(
    who, request, client_for, world
):
    client = client_for(request.getfixturevalue(who))
    for url in (reverse("admin:index"), reverse("admin:dashboard")):
        response = client.get(url)
        assert response.status_code == 200
        assert "panel-funnel" in response.content.decode()
    home = client.get(reverse("admin:index")).content.decode()
    assert "dashboard-apps" in home  # the list of tables is still there


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in (reverse("admin:index"), reverse("admin:dashboard")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_page_has_no_inline_script(known, admin_user, client_for):
    page = client_for(admin_user).get(reverse("admin:dashboard")).content.decode()
    assert "<script>" not in page and "<style" not in page and "onclick" not in page


def test_the_query_count_does_not_grow_with_the_data(advance, admin_user, client_for, world):
    client = client_for(admin_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("admin:dashboard")).status_code == 200
        return len(captured)

    advance(Stage.AWAITING_ENGAGEMENT)
    advance(Stage.DRAFTING)
    small = queries()
    for stage in (Stage.AWAITING_ENGAGEMENT, Stage.FOLLOWED, Stage.NEW, Stage.ENGAGED):
        advance(stage)
    assert queries() == small


def test_the_per_day_rollup_matches_a_recount_from_the_events(known):
    from outreach import rollups
    from outreach.models import CaseDay, StaffDay

    kept = set(CaseDay.objects.values_list("day", "brand_id", "kind", "step", "count"))
    staff = set(
        StaffDay.objects.values_list("day", "user_id", "brand_id", "measure", "bin", "count")
    )
    rollups.rebuild()
    assert set(CaseDay.objects.values_list("day", "brand_id", "kind", "step", "count")) == kept
    assert (
        set(StaffDay.objects.values_list("day", "user_id", "brand_id", "measure", "bin", "count"))
        == staff
    )
    assert any(step.startswith(rollups.FIRST_REPLY) for _, _, _, step, _ in kept)
    assert {measure for _, _, _, measure, _, _ in staff} >= {"approved", Stage.NEW}
    steps = {step: n for _, _, _, step, n in kept}
    assert steps["opened"] == 7 and steps["blocked"] == 1 and steps["stopped"] == 1


def test_a_case_entering_a_stage_twice_is_counted_once(advance, reviewer):
    from outreach.models import CaseDay

    case = advance(Stage.AWAITING_APPROVAL)
    workflow.reject_draft(case, actor=reviewer, note="warmer, please")
    case.refresh_from_db()
    assert case.stage == Stage.DRAFTING
    assert CaseDay.objects.get(step=Stage.DRAFTING).count == 1


def test_detected_complaints_link_to_exactly_the_detections_counted(
    world, competitor, own_brand, admin_user, client_for
):
    from monitoring import rollups
    from tests.factories import DetectionFactory

    now = timezone.now()
    counted = [DetectionFactory(brand=competitor) for _ in range(3)]
    DetectionFactory(brand=competitor, complaint=False)
    DetectionFactory(brand=own_brand)
    old = DetectionFactory(
        brand=competitor, post=PostFactory(posted_at=now - dt.timedelta(days=40))
    )
    rollups.count_detections(
        (d.posted_at, d.brand_id, d.complaint, [d.brand_id])
        for d in [*counted, old, *Detection.objects.filter(complaint=False)]
    )
    (row,) = [
        r
        for r in dashboard.funnel(PERIOD)
        if r["detected"] and r["kind_code"] == PlaybookKind.COMPETITOR
    ]
    assert row["count"] == 3
    response = client_for(admin_user).get(detections_url(row["link"]))
    assert response.status_code == 200
    assert {d.pk for d in response.context["cl"].result_list} == {d.pk for d in counted}


def test_a_figure_links_to_a_list_only_for_someone_who_may_open_it(
    world, competitor, analyst, client_for
):
    from django.contrib.auth.models import Permission

    from tests.factories import DetectionFactory

    DetectionFactory(brand=competitor)
    detection_list = reverse("admin:monitoring_detection_changelist")
    page = client_for(analyst).get(reverse("admin:dashboard")).content.decode()
    assert detection_list + "?" in page
    # Without the right to see detections, the count stays and its link goes.
    for group in analyst.groups.all():
        group.permissions.remove(Permission.objects.get(codename="view_detection"))
    analyst = type(analyst).objects.get(pk=analyst.pk)  # no cached permissions
    page = client_for(analyst).get(reverse("admin:dashboard")).content.decode()
    assert detection_list + "?" not in page
