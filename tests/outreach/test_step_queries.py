"""Every background step costs the same number of queries whatever the history (issue #15).

Each test measures one step on a fresh subject with a small history (3 closed
cases with their posts, detections, sent replies and audit rows, plus open cases
that are not due), grows the history tenfold, and measures the step again on a
new subject: the counts must be equal. Triage is measured per post as well (its
reads are made once per batch). Query counts, never timings: the figures are
``bench/scale_steps.py``'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from monitoring import incidents, triage
from monitoring.models import Brand, Detection, Incident, Post
from monitoring.platforms.base import Notification, PersonData, Sent
from outreach import dispatch, engagement, expiry, queries, workflow
from outreach.models import Case, OutboundAction, PlaybookKind, Stage
from outreach.workflow import caps
from tests.factories import DetectionFactory, IncidentFactory
from tests.outreach.factories import COMPLAINT, PostFactory, sandbox_post

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 30


@dataclass
class Verdict:
    complaint: bool = True
    score: float = 0.9
    sentiment: float = -0.6
    topic: str = "outage"
    model: str = "fake-1"


class FakeModel:
    """The classifier is not the subject: every post is a complaint."""

    def predict(self, texts: list[str]) -> list[Verdict]:
        return [Verdict() for _ in texts]


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(triage, "active_model", FakeModel)


@pytest.fixture(autouse=True)
def quiet_alerts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "tell_team", lambda subject, body: None)


def count(step: Callable[[], Any]) -> tuple[int, Any]:
    """The number of queries ``step`` makes, and what it returned."""
    with CaptureQueriesContext(connection) as captured:
        result = step()
    return len(captured.captured_queries), result


@pytest.fixture
def history(advance: Any, competitor: Brand) -> Callable[[int], None]:
    """Grow the history by ``n`` people: each with a case closed days ago after our reply
    (post, detection, outbox row, audit rows), and one open case that is not due yet."""
    made = {"n": 0}
    anchor = timezone.now()

    def grow(n: int) -> None:
        for _ in range(n):
            made["n"] += 1
            # In time order, 90 minutes apart and over a week ago: today's caps and
            # windows count none of them, and each was under the caps of its own time.
            then = anchor - dt.timedelta(days=8, minutes=90 * (LARGE - made["n"]))
            with time_machine.travel(then):
                case = advance(Stage.AWAITING_ENGAGEMENT)
                DetectionFactory(post=case.post, brand=competitor)
            workflow.mark_no_response(case.pk, now=then + dt.timedelta(days=7, hours=1))
            # Open, overdue, but neither stale nor counted by today's caps.
            with time_machine.travel(anchor - dt.timedelta(days=2)):
                fresh = PostFactory(text=COMPLAINT, posted_at=timezone.now())
                workflow.open_case(fresh.pk, competitor.pk, PlaybookKind.COMPETITOR)
        # The history has been judged: only new posts wait for detection.
        Post.objects.update(awaiting_detection=False)

    return grow


def same_at_two_sizes(grow: Callable[[int], None], measure: Callable[[], int]) -> int:
    """Measure at SMALL, grow to LARGE, measure again; both counts must be equal."""
    grow(SMALL)
    small = measure()
    grow(LARGE - SMALL)
    large = measure()
    assert small == large, f"{small} queries with {SMALL} people, {large} with {LARGE}"
    return small


# --- Listening ----------------------------------------------------------------------------


def test_finding_and_judging_a_detection_batch_costs_the_same_whatever_the_history(
    history: Any,
) -> None:
    def measure() -> int:
        posts = [PostFactory(text="telvana down again") for _ in range(4)]
        queries_made, ids = count(triage.detect_pending)
        assert sorted(Detection.objects.filter(pk__in=ids).values_list("post_id", flat=True)) == (
            sorted(p.pk for p in posts)
        )
        return queries_made

    same_at_two_sizes(history, measure)


def test_a_post_with_a_detection_already_leaves_the_queue_without_a_second_verdict(
    competitor: Brand,
) -> None:
    judged = DetectionFactory(post=PostFactory(text="telvana down"), brand=competitor)
    waiting = PostFactory(text="telvana down too")
    ids = triage.detect_pending()
    assert list(Detection.objects.filter(pk__in=ids).values_list("post_id", flat=True)) == [
        waiting.pk
    ]
    assert Post.objects.filter(awaiting_detection=True).count() == 0
    assert Detection.objects.filter(post=judged.post).count() == 1


def test_a_post_leaves_the_detection_queue_once_judged(competitor: Brand) -> None:
    post = PostFactory(text="telvana down")
    assert Post.objects.get(pk=post.pk).awaiting_detection is True
    triage.detect_pending()
    assert Post.objects.get(pk=post.pk).awaiting_detection is False
    assert triage.detect_pending() == []


def test_refreshing_an_incident_costs_the_same_whatever_its_detections(
    competitor: Brand,
) -> None:
    incident = IncidentFactory(
        brand=competitor,
        state=Incident.State.EMERGING,
        volume=1,
        last_seen_at=timezone.now() - dt.timedelta(minutes=10),
    )

    def grow(n: int) -> None:
        for _ in range(n):
            post = PostFactory(posted_at=timezone.now() - dt.timedelta(hours=3))
            DetectionFactory(post=post, brand=competitor, incident=incident)

    def measure() -> int:
        queries_made, state = count(lambda: incidents.refresh(incident.pk))
        assert state == Incident.State.EMERGING
        return queries_made

    same_at_two_sizes(grow, measure)


def _open_outage(competitor: Brand) -> Incident:
    """An active outage incident of ``competitor``, seen in the last two hours."""
    return IncidentFactory(
        brand=competitor,
        topic="outage",
        state=Incident.State.ACTIVE,
        volume=0,
        first_seen_at=timezone.now() - dt.timedelta(hours=2),
        last_seen_at=timezone.now() - dt.timedelta(minutes=5),
    )


def _outage_complaints(n: int, competitor: Brand) -> list[int]:
    """``n`` new outage complaints about ``competitor``: detections that join its incident."""
    return [
        DetectionFactory(
            post=PostFactory(posted_at=timezone.now() - dt.timedelta(minutes=1)),
            brand=competitor,
            complaint=True,
            topic="outage",
        ).pk
        for _ in range(n)
    ]


def test_a_detection_batch_joins_its_incident_in_the_same_queries_whatever_its_size(
    competitor: Brand,
) -> None:
    incident = _open_outage(competitor)

    def grow(n: int) -> None:
        incidents.assign(_outage_complaints(n, competitor))

    def measure() -> int:
        batch = _outage_complaints(3, competitor)
        queries_made, touched = count(lambda: incidents.assign(batch))
        assert touched == {incident.pk}
        return queries_made

    same_at_two_sizes(grow, measure)
    assert Incident.objects.get(pk=incident.pk).volume == LARGE + 6


def test_a_detection_batch_joins_its_incident_in_the_same_queries_whatever_the_batchs_size(
    competitor: Brand,
) -> None:
    incident = _open_outage(competitor)

    def joined(n: int) -> int:
        batch = _outage_complaints(n, competitor)
        queries_made, touched = count(lambda: incidents.assign(batch))
        assert touched == {incident.pk}
        return queries_made

    # The incident is locked once and the batch written together (issue #15: it was
    # seven statements per complaint).
    assert joined(SMALL) == joined(LARGE)
    incident.refresh_from_db()
    assert incident.volume == SMALL + LARGE
    assert sum(incident.hours.values_list("count", flat=True)) == SMALL + LARGE
    assert Detection.objects.filter(incident=incident).count() == SMALL + LARGE


# --- Triage -------------------------------------------------------------------------------


def _detections(n: int, competitor: Brand) -> list[int]:
    posts = [
        PostFactory(text=COMPLAINT, posted_at=timezone.now() - dt.timedelta(hours=1))
        for _ in range(n)
    ]
    return [DetectionFactory(post=p, brand=competitor).pk for p in posts]


def test_triage_opens_each_case_in_at_most_six_queries_whatever_the_history(
    history: Any, competitor: Brand
) -> None:
    from outreach.workflow.triage import triage as run_triage

    def per_post() -> int:
        batch = _detections(2, competitor)
        two, counts = count(lambda: run_triage(batch))
        assert counts == {Detection.Triage.OPENED: 2}
        batch = _detections(5, competitor)
        five, counts = count(lambda: run_triage(batch))
        assert counts == {Detection.Triage.OPENED: 5}
        # Whatever the batch reads is read once: each further post costs the same.
        assert (five - two) % 3 == 0
        return (five - two) // 3

    # The brand's lock, the cap count, the case, its audit row, and a savepoint and its
    # release around each case (issue #15: at most 6); the dashboard's day counter is one
    # statement for the whole batch.
    assert same_at_two_sizes(history, per_post) <= 6


def test_a_triage_batch_counts_its_opened_cases_for_the_dashboard_once_each(
    competitor: Brand, own_brand: Brand, playbook: Any, own_playbook: Any
) -> None:
    from outreach import rollups
    from outreach.models import CaseDay
    from outreach.workflow.triage import triage as run_triage

    posted = timezone.now() - dt.timedelta(hours=1)
    first, second, third = (PostFactory(text=COMPLAINT, posted_at=posted) for _ in range(3))
    again = PostFactory(text=COMPLAINT, author=first.author, posted_at=posted)
    ids = [
        DetectionFactory(post=first, brand=competitor).pk,
        DetectionFactory(post=again, brand=competitor).pk,
        DetectionFactory(post=second, brand=competitor).pk,
        DetectionFactory(post=third, brand=own_brand).pk,
    ]
    assert run_triage(ids) == {
        Detection.Triage.OPENED: 3,
        Detection.Triage.IN_CONVERSATION: 1,
    }
    opened = dict(CaseDay.objects.filter(step=rollups.OPENED).values_list("kind", "count"))
    assert opened == {PlaybookKind.COMPETITOR: 2, PlaybookKind.OWN_BRAND: 1}
    # The same as a recount from the audit trail.
    kept = set(CaseDay.objects.values_list("day", "brand_id", "kind", "step", "count"))
    rollups.rebuild()
    assert set(CaseDay.objects.values_list("day", "brand_id", "kind", "step", "count")) == kept


def test_triage_refuses_the_second_post_of_one_person_in_a_batch(
    competitor: Brand, playbook: Any
) -> None:
    from outreach.workflow.triage import triage as run_triage

    first = PostFactory(text=COMPLAINT, posted_at=timezone.now() - dt.timedelta(hours=1))
    second = PostFactory(
        text=COMPLAINT, author=first.author, posted_at=timezone.now() - dt.timedelta(minutes=5)
    )
    ids = [DetectionFactory(post=p, brand=competitor).pk for p in (first, second)]
    assert run_triage(ids) == {Detection.Triage.OPENED: 1, Detection.Triage.IN_CONVERSATION: 1}
    assert Case.objects.filter(person=first.author).count() == 1


# --- Caps, the dispatcher, engagement -----------------------------------------------------


def test_each_cap_check_costs_the_same_whatever_the_outbox(
    history: Any, advance: Any, account: Any, competitor: Brand, playbook: Any
) -> None:
    incident = IncidentFactory(brand=competitor)

    def measure() -> tuple[int, ...]:
        case = advance(Stage.APPROVED)
        action = OutboundAction.objects.get(case=case, kind="reply")
        now = timezone.now()
        checks = {
            "opening": lambda: caps.opening(competitor, playbook, incident.pk, now),
            "approval": lambda: caps.approval(case, account, now),
            "send slot": lambda: caps.send_slot(case, account, now),
            "sending": lambda: caps.sending(action, case, now),
        }
        made = []
        for name, check in checks.items():
            queries_made, result = count(check)
            # A reached cap returns before its last counts; a check with no query
            # (an unpaced reply) would measure nothing.
            assert name == "send slot" or result is None, (name, result)
            assert queries_made > 0, name
            made.append(queries_made)
        return tuple(made)

    same_at_two_sizes(history, measure)


def test_one_send_through_the_dispatcher_costs_the_same_whatever_the_outbox(
    history: Any, advance: Any
) -> None:
    sends = {"n": 0}

    def measure() -> int:
        sends["n"] += 1
        # Two hours apart: the account's spacing and hourly cap are not the subject.
        with time_machine.travel(timezone.now() + dt.timedelta(hours=2 * sends["n"])):
            case = advance(Stage.APPROVED, post=sandbox_post())
            action = OutboundAction.objects.get(case=case, kind="reply")
            OutboundAction.objects.filter(pk=action.pk).update(not_before=timezone.now())
            queries_made, outcome = count(lambda: dispatch.send_action(action.pk))
        assert outcome.result == "sent", outcome
        return queries_made

    same_at_two_sizes(history, measure)


class TakesEveryReply:
    """A platform that accepts every reply and has no database of its own (the sandbox
    has): what is counted is the dispatcher's and the workflow's statements only."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Sent:
        self.keys.append(idempotency_key)
        return Sent(external_id=f"posted-{len(self.keys)}")


# One first reply through the dispatcher, statement by statement (issue #15: 27 before,
# plus one to find each drained row; the heaviest, an eight-table read, is gone):
#   claim      BEGIN; the row with its case, draft and account, the account locked;
#              the account's send in flight and last send; the compare-and-set
#              (RETURNING); COMMIT; the case's post, person and playbook           6
#   checks     the erasure salt and the do-not-contact list; the account's sends this
#              hour, the active playbook's caps, the brand's replies today          5
#   heartbeat  the lease renewed once before the call                               1
#   record     BEGIN; SET LOCAL synchronous_commit; the research note (rule 1);
#              SAVEPOINT; the row sent; SAVEPOINT; the CaseEvent; the rollup's
#              earlier-event probe and its one upsert; the case's stage; RELEASE x2;
#              COMMIT                                                              13
SEND_STATEMENTS = 25


def test_a_send_and_each_send_of_a_drain_cost_a_fixed_number_of_statements(
    advance: Any, account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = TakesEveryReply()
    monkeypatch.setattr(dispatch, "platform_for", lambda account: platform)
    # No spacing between the account's sends (they are not the subject): an hourly cap so
    # high that the gap between two sends is under a microsecond.
    type(account).objects.filter(pk=account.pk).update(max_sends_per_hour=2_000_000_000)
    cases = [advance(Stage.APPROVED) for _ in range(3)]
    actions = [OutboundAction.objects.get(case=case, kind="reply") for case in cases]
    OutboundAction.objects.filter(pk__in=[a.pk for a in actions]).update(not_before=timezone.now())
    # One send on its own (the task's first row)...
    made, outcome = count(lambda: dispatch.send_action(actions[0].pk))
    assert outcome.result == "sent", outcome
    assert made == SEND_STATEMENTS
    # ...and a drain: each row claimed by the claim's own read (the erasure salt read for
    # the first only), then one look that finds nothing more due (BEGIN, the read, COMMIT).
    made, outcomes = count(lambda: dispatch.send_due(actions[1].pk))
    assert [o.result for o in outcomes] == ["sent", "sent"]
    assert made == SEND_STATEMENTS + (SEND_STATEMENTS - 1) + 3
    assert platform.keys == [a.idempotency_key for a in actions]


def test_a_drains_next_row_is_read_from_the_accounts_queue_not_its_sent_history(
    history: Any, account: Any
) -> None:
    # A plan on tables this small says nothing of the planner's choice: forbid the
    # sequential and bitmap scans, then check the next-row read walks the partial index of
    # pending and sending rows, not action_account_slot, which holds every sent row too.
    history(SMALL)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = dispatch._next_rows(account.pk, timezone.now()).explain()
    assert "action_account_queue" in plan, plan


def test_matching_a_notification_costs_the_same_whatever_the_replies(
    history: Any, advance: Any, account: Any
) -> None:
    def measure() -> int:
        case = advance(Stage.AWAITING_ENGAGEMENT)
        reply = OutboundAction.objects.get(case=case, kind="reply")
        person = PersonData(external_id=case.person.external_id, handle=case.person.handle)
        about_reply = Notification(
            external_id=f"n-{case.pk}",
            kind="favourite",
            person=person,
            created_at=timezone.now(),
            subject_id=reply.external_id,
        )
        mention = Notification(
            external_id=f"m-{case.pk}", kind="mention", person=person, created_at=timezone.now()
        )
        by_subject, found = count(lambda: engagement.match_case_id(account, about_reply))
        assert found == case.pk
        by_person, found = count(lambda: engagement.match_case_id(account, mention))
        assert found == case.pk
        return by_subject + by_person

    assert same_at_two_sizes(history, measure) <= 5


def test_a_notification_from_a_handle_in_another_case_matches_that_persons_case(
    advance: Any, account: Any
) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    shouting = PersonData(external_id="", handle="@" + case.person.handle.upper())
    note = Notification(
        external_id="n-1", kind="mention", person=shouting, created_at=timezone.now()
    )
    assert engagement.match_case_id(account, note) == case.pk
    stranger = PersonData(external_id="nobody", handle="nobody")
    note = Notification(
        external_id="n-2", kind="mention", person=stranger, created_at=timezone.now()
    )
    assert engagement.match_case_id(account, note) is None


# --- Expiry ticks -------------------------------------------------------------------------


@pytest.fixture
def alerts_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    import sys
    import types

    import monitoring

    told: list[str] = []
    sink = types.ModuleType("monitoring.alerts")
    sink.send = lambda subject, body: told.append(subject)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "monitoring.alerts", sink)
    monkeypatch.setattr(monitoring, "alerts", sink, raising=False)
    yield told


@pytest.mark.parametrize(
    "tick", [expiry.close_unanswered, expiry.expire_stale, expiry.alert_due_own_brand]
)
def test_each_expiry_tick_with_nothing_due_costs_the_same_whatever_the_history(
    history: Any, tick: Any, alerts_sink: list[str]
) -> None:
    def measure() -> int:
        queries_made, done = count(tick)
        assert done == 0
        return queries_made

    same_at_two_sizes(history, measure)


def test_finding_the_cases_due_for_expiry_is_two_queries_whatever_the_history(
    history: Any, advance: Any
) -> None:
    def measure() -> int:
        stale = advance(Stage.DRAFTING)
        silent = advance(Stage.AWAITING_ENGAGEMENT)
        later = timezone.now() + dt.timedelta(days=8)
        stale_queries, stale_ids = count(lambda: queries.stale_case_ids(later))
        silent_queries, silent_ids = count(lambda: queries.unanswered_case_ids(later))
        assert stale.pk in stale_ids and silent.pk in silent_ids
        # Closed in between: the next measure finds only its own.
        workflow.expire(stale.pk, now=later)
        workflow.mark_no_response(silent.pk, now=later)
        return stale_queries + silent_queries

    # Each: the playbook versions' limits, then the cases.
    assert same_at_two_sizes(history, measure) == 4


def test_finding_the_own_brand_cases_due_an_alert_is_two_queries_whatever_the_history(
    history: Any, own_brand: Brand, own_playbook: Any
) -> None:
    def measure() -> int:
        post = PostFactory(text=COMPLAINT, posted_at=timezone.now() - dt.timedelta(minutes=30))
        case = workflow.open_case(post.pk, own_brand.pk, PlaybookKind.OWN_BRAND)
        later = timezone.now() + dt.timedelta(hours=3)
        queries_made, due = count(lambda: expiry.due_alert_candidates(later))
        assert case.pk in {pk for pk, _ in due}
        return queries_made

    # The own-brand playbook versions' due hours, then the cases.
    assert same_at_two_sizes(history, measure) == 2


def test_each_case_goes_stale_by_its_own_playbooks_freshness(
    competitor: Brand, own_brand: Brand, playbook: Any
) -> None:
    from tests.outreach.factories import PlaybookFactory

    PlaybookFactory(kind=PlaybookKind.OWN_BRAND, version=1, freshness_hours=6, due_hours=2)
    posted = timezone.now() - dt.timedelta(hours=1)
    own = workflow.open_case(
        PostFactory(text=COMPLAINT, posted_at=posted).pk, own_brand.pk, PlaybookKind.OWN_BRAND
    )
    rival = workflow.open_case(
        PostFactory(text=COMPLAINT, posted_at=posted).pk, competitor.pk, PlaybookKind.COMPETITOR
    )
    later = timezone.now() + dt.timedelta(hours=8)
    assert queries.stale_case_ids(later) == [own.pk]
    assert rival.pk in queries.stale_case_ids(timezone.now() + dt.timedelta(hours=80))


def test_a_cap_count_stops_at_the_cap(history: Any) -> None:
    # The opening cap counts a big incident's cases only as far as the cap: enough to
    # say whether it is reached, the same work for 20 cases or 7,500.
    history(SMALL)
    total = Case.objects.count()
    assert total > 3
    counted = Brand.objects.values(n=caps.CountUpTo(Case.objects.all(), 3)).first()
    assert counted == {"n": 3}
    everything = Brand.objects.values(n=caps.CountUpTo(Case.objects.all(), total + 5)).first()
    assert everything == {"n": total}
    assert Brand.objects.values(n=caps.CountUpTo(Case.objects.all(), 0)).first() == {"n": 0}
    # The same as a statement of its own (the caps at approval and at send time).
    assert caps.reached(Case.objects.all(), 3)
    assert caps.reached(Case.objects.all(), total)
    assert not caps.reached(Case.objects.all(), total + 1)
    with CaptureQueriesContext(connection) as captured:
        caps.reached(Case.objects.all(), 3)
    assert "LIMIT 3" in captured.captured_queries[0]["sql"]
