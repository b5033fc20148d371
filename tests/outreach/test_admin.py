"""The review admin: the queue, the case page, its buttons, bulk actions and the
other outreach admins, each tried by users with and without the permissions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Account, Brand
from outreach import workflow
from outreach.models import (
    Case,
    DoNotContact,
    OutboundAction,
    Playbook,
    ReplyDraft,
    Stage,
    text_hash,
)
from tests.factories import BrandFactory, DetectionFactory, IncidentFactory
from tests.outreach.factories import (
    COMPLAINT,
    GOOD_REPLY,
    SUMMARY,
    PersonFactory,
    PostFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _move(client: Client, case: Case, name: str, **data: str) -> Any:
    return client.post(reverse("admin:outreach_case_move", args=[case.pk, name]), data, follow=True)


def _page(client: Client, case: Case) -> str:
    response = client.get(reverse("admin:outreach_case_change", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _messages(response: Any) -> str:
    return " | ".join(str(m) for m in response.context["messages"])


# --- the queue ------------------------------------------------------------------------


def test_queue_is_ordered_by_due_time_then_severity_not_reach(advance: Any, analyst: Any) -> None:
    # given a loud account with a later due time and a quiet one due first
    loud = advance(Stage.NEW)
    quiet = advance(Stage.NEW)
    urgent_same_time = advance(Stage.NEW)
    now = timezone.now()
    Case.objects.filter(pk=loud.pk).update(due_at=now + dt.timedelta(hours=5), severity=4)
    Case.objects.filter(pk=quiet.pk).update(due_at=now + dt.timedelta(hours=1), severity=2)
    Case.objects.filter(pk=urgent_same_time.pk).update(
        due_at=now + dt.timedelta(hours=1), severity=3
    )
    loud.post.raw = {"account": {"followers_count": 2_000_000}}
    loud.post.save()
    # when the queue is shown
    response = _client(analyst).get(reverse("admin:outreach_case_changelist"))
    # then it is due time first, severity second
    ids = [c.pk for c in response.context["cl"].result_list]
    assert ids == [urgent_same_time.pk, quiet.pk, loud.pk]


@pytest.mark.parametrize("order", ["0", "-2", "7", "1.2", "garbage"])
def test_queue_cannot_be_sorted_by_anything_but_due_time_and_severity(
    advance: Any, analyst: Any, order: str
) -> None:
    # given cases opened in one order and due in another
    first, second = advance(Stage.NEW), advance(Stage.NEW)
    Case.objects.filter(pk=first.pk).update(due_at=timezone.now() + dt.timedelta(hours=30))
    # when someone asks for another sort order in the URL
    response = _client(analyst).get(reverse("admin:outreach_case_changelist") + "?o=" + order)
    # then the queue is still due time first
    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [second.pk, first.pk]


def test_queue_shows_counts_per_stage(advance: Any, analyst: Any) -> None:
    advance(Stage.NEW)
    advance(Stage.DRAFTING)
    response = _client(analyst).get(reverse("admin:outreach_case_changelist"))
    counts = {label: n for label, n, *_ in response.context["stage_bar"]}
    assert counts["New"] == 1 and counts["Drafting"] == 1 and counts["Awaiting approval"] == 0
    assert 'id="stage-counts"' in response.content.decode()


def test_queue_hides_closed_cases_by_default(advance: Any, analyst: Any) -> None:
    open_case = advance(Stage.NEW)
    closed = advance(Stage.NEW)
    workflow.dismiss(closed, actor=analyst, reason="spam bot")
    client = _client(analyst)
    listed = client.get(reverse("admin:outreach_case_changelist")).context["cl"].result_list
    assert [c.pk for c in listed] == [open_case.pk]
    listed = (
        client.get(reverse("admin:outreach_case_changelist") + "?queue=closed")
        .context["cl"]
        .result_list
    )
    assert [c.pk for c in listed] == [closed.pk]


@pytest.mark.parametrize(
    "query",
    [
        "stage__exact=new",
        "platform__exact=sandbox",
        "kind__exact=competitor",
        "incident=no",
        "queue=all",
    ],
)
def test_queue_filters_work(advance: Any, analyst: Any, query: str) -> None:
    case = advance(Stage.NEW)
    response = _client(analyst).get(reverse("admin:outreach_case_changelist") + "?" + query)
    assert [c.pk for c in response.context["cl"].result_list] == [case.pk]


@pytest.mark.parametrize(("who", "expected"), [("me", 1), ("none", 1)])
def test_queue_filters_by_assignee(advance: Any, analyst: Any, who: str, expected: int) -> None:
    workflow.claim(advance(Stage.NEW), actor=analyst)
    advance(Stage.NEW)
    response = _client(analyst).get(reverse("admin:outreach_case_changelist") + f"?assignee={who}")
    assert len(response.context["cl"].result_list) == expected


def test_queue_count_is_capped_but_pages_still_work(
    advance: Any, analyst: Any, monkeypatch: Any
) -> None:
    from outreach.admin import CappedPaginator, CaseAdmin

    monkeypatch.setattr(CappedPaginator, "CAP", 2)
    monkeypatch.setattr(CaseAdmin, "list_per_page", 1)
    cases = [advance(Stage.NEW) for _ in range(3)]
    client = _client(analyst)
    first = client.get(reverse("admin:outreach_case_changelist"))
    second = client.get(reverse("admin:outreach_case_changelist") + "?p=2")
    assert first.context["cl"].result_count == 2
    assert [c.pk for c in first.context["cl"].result_list] == [cases[0].pk]
    assert [c.pk for c in second.context["cl"].result_list] == [cases[1].pk]


def _queue_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("admin:outreach_case_changelist"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_queue_page_query_count_is_constant(advance: Any, analyst: Any, competitor: Brand) -> None:
    # given 5 cases, each with its own person, post and assignee
    client = _client(analyst)
    for _ in range(5):
        workflow.claim(advance(Stage.NEW), actor=UserFactory())
    with_five = _queue_queries(client)
    # when there are 50
    for _ in range(45):
        workflow.claim(advance(Stage.NEW), actor=UserFactory())
    with_fifty = _queue_queries(client)
    # then the page costs the same number of queries
    assert with_five == with_fifty
    assert with_fifty <= 12


# --- the case page ----------------------------------------------------------------------


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> gpj\u202eexe.txt'


def test_hostile_post_and_draft_are_escaped(advance: Any, analyst: Any) -> None:
    # given a post, a handle and a draft full of markup and a right-to-left override
    person = PersonFactory(handle="<b>evil</b>\u202e", display_name="<i>Eve</i>")
    post = PostFactory(author=person, text=COMPLAINT + " " + HOSTILE)
    case = advance(Stage.DRAFTING, post=post)
    workflow.save_draft(case, actor=analyst, text=GOOD_REPLY + " " + HOSTILE)
    # when the case page and the queue are shown
    client = _client(analyst)
    pages = [
        _page(client, case),
        client.get(reverse("admin:outreach_case_changelist")).content.decode(),
    ]
    # then nothing is live markup and the override is shown, not obeyed
    for html in pages:
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<b>evil</b>" not in html
        # The edit box must hold the exact text; everywhere else the override is a marker.
        outside_edit_boxes = re.sub(r"<textarea[^>]*>.*?</textarea>", "", html, flags=re.S)
        assert "\u202e" not in outside_edit_boxes
        assert "[U+202E]" in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in pages[0]


def test_case_page_shows_post_thread_error_other_posts_and_similar_complaints(
    advance: Any, analyst: Any, competitor: Brand
) -> None:
    case = advance(Stage.RESEARCHING)
    PostFactory(author=case.person, text="my cat knocked the router over, again")
    advance(Stage.NEW)  # someone else complaining about the same brand
    html = _page(_client(analyst), case)
    assert "Telvana dropped my connection" in html
    assert "my cat knocked the router over" in html
    assert "Thread not available" in html  # the post is not on the sandbox network
    assert "<b>1</b> similar complaint" in html


def test_case_page_shows_the_thread_from_the_platform(
    world: None, analyst: Any, competitor: Brand
) -> None:
    from monitoring.models import SandboxPost

    root = SandboxPost.objects.create(
        author_id_text="u-9",
        author_handle="ann",
        text="Telvana is down for me",
        published_at=timezone.now() - dt.timedelta(minutes=30),
    )
    SandboxPost.objects.create(
        author_id_text="u-8",
        author_handle="bob",
        text="same here since noon",
        reply_to=root,
        published_at=timezone.now() - dt.timedelta(minutes=20),
    )
    post = PostFactory(external_id=str(root.pk), text=root.text)
    case = workflow.open_case(post.pk, competitor.pk, "competitor")
    html = _page(_client(analyst), case)
    assert "same here since noon" in html and "Thread not available" not in html


def test_disabled_buttons_name_the_rule_that_forbids_them(advance: Any, analyst: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    response = _client(analyst).get(reverse("admin:outreach_case_change", args=[case.pk]))
    moves = {m.name: m for m in response.context["moves"]}
    assert not moves["approve_reply"].allowed
    assert "rule 3" in moves["approve_reply"].reason
    assert not moves["request_follow"].allowed
    assert "rule 5" in moves["request_follow"].reason
    assert "disabled" in response.content.decode()


def test_tone_findings_are_shown_next_to_the_draft(advance: Any, analyst: Any) -> None:
    case = advance(Stage.DRAFTING)
    client = _client(analyst)
    client.post(
        reverse("admin:outreach_case_draft", args=[case.pk]),
        {"text": "Switch to Northwind, check out northwind.example"},
    )
    html = _page(client, case)
    assert 'id="nj-findings"' in html and "Blocks:" in html


def test_research_and_draft_from_the_admin_take_a_case_to_approved(
    advance: Any, analyst: Any, reviewer: Any
) -> None:
    # given a new case
    case = advance(Stage.NEW)
    a, r = _client(analyst), _client(reviewer)
    # when the analyst claims, researches, drafts and submits, and the reviewer approves
    _move(a, case, "claim")
    a.post(
        reverse("admin:outreach_case_research", args=[case.pk]),
        {"summary": SUMMARY, "thread_checked": "on", "scope": "isolated"},
    )
    a.post(
        reverse("admin:outreach_case_draft", args=[case.pk]), {"text": GOOD_REPLY, "submit": "1"}
    )
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_APPROVAL
    response = _move(r, case, "approve_reply", text_hash=text_hash(GOOD_REPLY))
    # then the reply is approved and queued
    case.refresh_from_db()
    assert case.stage == Stage.APPROVED, _messages(response)
    assert OutboundAction.objects.filter(case=case, state="pending").count() == 1


def test_research_from_the_admin_links_one_of_the_brands_incidents(
    advance: Any, analyst: Any, competitor: Brand
) -> None:
    # given an incident about the case's brand, a closed old one and another brand's
    incident = IncidentFactory(brand=competitor, topic="outage")
    DetectionFactory(brand=competitor, incident=incident)
    old = IncidentFactory(
        brand=competitor,
        state="closed",
        first_seen_at=timezone.now() - dt.timedelta(days=60),
        last_seen_at=timezone.now() - dt.timedelta(days=59),
    )
    other = IncidentFactory(brand=BrandFactory(name="Orbix"))
    case = advance(Stage.RESEARCHING)
    client = _client(analyst)
    # then the research form offers only the brand's recent incident
    page = _page(client, case)
    options = re.findall(r'<option value="(\d+)"', page)
    assert str(incident.pk) in options
    assert str(old.pk) not in options and str(other.pk) not in options
    # when the analyst links it
    client.post(
        reverse("admin:outreach_case_research", args=[case.pk]),
        {"summary": SUMMARY, "thread_checked": "on", "scope": "incident", "incident": incident.pk},
    )
    case.refresh_from_db()
    assert case.incident_id == incident.pk
    assert case.stage == Stage.DRAFTING
    # then the case page links the incident and shows its volume
    page = _page(client, case)
    link = reverse("admin:monitoring_incident_change", args=[incident.pk])
    assert f'href="{link}"' in page
    assert re.search(r'id="nj-chatter">Chatter volume: <b>1</b> complaint in', page)
    # and a forged choice of another brand's incident is refused by the form
    response = client.post(
        reverse("admin:outreach_case_research", args=[case.pk]),
        {"summary": SUMMARY, "thread_checked": "on", "scope": "incident", "incident": other.pk},
        follow=True,
    )
    assert "Research not saved" in _messages(response)


def test_the_incident_page_lists_its_cases_and_the_queue_filters_them(
    advance: Any, analyst: Any, admin_user: Any, competitor: Brand
) -> None:
    incident = IncidentFactory(brand=competitor)
    inside, outside = advance(Stage.NEW), advance(Stage.NEW)
    Case.objects.filter(pk=inside.pk).update(incident=incident)
    page = (
        _client(admin_user)
        .get(reverse("admin:monitoring_incident_change", args=[incident.pk]))
        .content.decode()
    )
    assert "1 new" in page
    listing = _client(analyst).get(
        reverse("admin:outreach_case_changelist") + f"?incident={incident.pk}&queue=all"
    )
    assert [c.pk for c in listing.context["cl"].result_list] == [inside.pk]
    assert outside.pk != inside.pk


# --- each rule from the admin, with and without the permission ------------------------


def test_approval_from_admin_without_the_permission_is_refused(advance: Any, analyst: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    other = UserFactory(username="analyst-b", groups=["Analyst"])
    response = _move(_client(other), case, "approve_reply", text_hash=text_hash(GOOD_REPLY))
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_APPROVAL
    assert "rule 3" in _messages(response)


def test_moves_from_admin_need_the_change_permission(advance: Any) -> None:
    case = advance(Stage.NEW)
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_case"))
    client = _client(viewer)
    assert _page(client, case)  # may look
    for url in (
        reverse("admin:outreach_case_move", args=[case.pk, "claim"]),
        reverse("admin:outreach_case_research", args=[case.pk]),
        reverse("admin:outreach_case_draft", args=[case.pk]),
    ):
        assert client.post(url, {"text": GOOD_REPLY}).status_code == 403
    case.refresh_from_db()
    assert case.stage == Stage.NEW


def test_moves_from_admin_are_post_only(advance: Any, analyst: Any) -> None:
    case = advance(Stage.NEW)
    response = _client(analyst).get(reverse("admin:outreach_case_move", args=[case.pk, "claim"]))
    assert response.status_code == 403


def test_four_eyes_from_admin(advance: Any, reviewer: Any) -> None:
    case = advance(Stage.DRAFTING)
    r = _client(reviewer)
    r.post(
        reverse("admin:outreach_case_draft", args=[case.pk]),
        {"text": GOOD_REPLY + " Hang in there."},
    )
    r.post(reverse("admin:outreach_case_move", args=[case.pk, "submit_draft"]))
    response = _move(r, case, "approve_reply", text_hash=text_hash(GOOD_REPLY + " Hang in there."))
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_APPROVAL
    assert "four eyes" in _messages(response)


def test_approval_from_admin_of_a_text_changed_meanwhile_is_refused(
    advance: Any, reviewer: Any
) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    response = _move(_client(reviewer), case, "approve_reply", text_hash=text_hash("old text"))
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_APPROVAL
    assert "changed since you read it" in _messages(response)


def test_editing_an_approved_draft_from_admin_voids_the_approval(
    advance: Any, analyst: Any
) -> None:
    case = advance(Stage.APPROVED)
    _client(analyst).post(
        reverse("admin:outreach_case_draft", args=[case.pk]), {"text": GOOD_REPLY + " Cheers."}
    )
    case.refresh_from_db()
    assert case.stage == Stage.DRAFTING
    assert not ReplyDraft.objects.get(case=case).approval_is_valid
    assert OutboundAction.objects.get(case=case).state == "cancelled"


def test_submit_without_research_from_admin_is_refused(advance: Any, analyst: Any) -> None:
    case = advance(Stage.DRAFTING)
    case.research.delete()
    response = _move(_client(analyst), case, "submit_draft")
    case.refresh_from_db()
    assert case.stage == Stage.DRAFTING and "rule 1" in _messages(response)


def test_salesy_draft_from_admin_cannot_be_submitted(advance: Any, analyst: Any) -> None:
    case = advance(Stage.DRAFTING)
    a = _client(analyst)
    response = a.post(
        reverse("admin:outreach_case_draft", args=[case.pk]),
        {"text": "Sorry! Try Northwind Fibre, 20% off with code SWITCH20", "submit": "1"},
        follow=True,
    )
    case.refresh_from_db()
    assert case.stage == Stage.DRAFTING and "rule 2" in _messages(response)


def test_second_reply_before_engagement_is_refused_from_admin(advance: Any, reviewer2: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    response = _move(_client(reviewer2), case, "approve_reply", text_hash=text_hash(GOOD_REPLY))
    assert "cannot approve" in _messages(response)
    assert OutboundAction.objects.filter(case=case, kind="reply").count() == 1


def test_follow_before_engagement_is_refused_from_admin(advance: Any, reviewer: Any) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT)
    response = _move(_client(reviewer), case, "request_follow")
    case.refresh_from_db()
    assert case.stage == Stage.AWAITING_ENGAGEMENT
    assert "rule 5" in _messages(response)
    assert not OutboundAction.objects.filter(case=case, kind="follow").exists()


def test_pile_on_cap_from_admin_is_refused(advance: Any, playbook: Playbook, reviewer: Any) -> None:
    Playbook.objects.filter(pk=playbook.pk).update(max_replies_per_brand_per_day=1)
    advance(Stage.APPROVED)
    second = advance(Stage.AWAITING_APPROVAL)
    response = _move(_client(reviewer), second, "approve_reply", text_hash=text_hash(GOOD_REPLY))
    second.refresh_from_db()
    assert second.stage == Stage.AWAITING_APPROVAL
    assert "rule 7" in _messages(response)


def test_every_admin_move_is_audited_with_its_actor(advance: Any, analyst: Any) -> None:
    from outreach.models import CaseEvent

    case = advance(Stage.NEW)
    _move(_client(analyst), case, "claim")
    _move(_client(analyst), case, "dismiss", note="a bot")
    events = list(CaseEvent.objects.filter(case=case).values_list("action", "actor_id", "note"))
    assert events[-2:] == [("claim", analyst.pk, ""), ("dismiss", analyst.pk, "a bot")]


def test_follow_after_engagement_from_admin(advance: Any, reviewer: Any) -> None:
    case = advance(Stage.ENGAGED)
    _move(_client(reviewer), case, "request_follow")
    case.refresh_from_db()
    # Queued, not done: the page says "follow requested" until the dispatcher confirms it.
    assert case.stage == Stage.FOLLOW_REQUESTED


def test_opening_a_case_from_admin_respects_do_not_contact(
    world: None, analyst: Any, competitor: Brand
) -> None:
    post = PostFactory(text=COMPLAINT)
    DoNotContact.objects.create(platform="sandbox", handle=post.author.handle, reason="asked")
    response = _client(analyst).post(
        reverse("admin:outreach_case_add"),
        {"post_id": post.pk, "brand": competitor.pk, "kind": "competitor", "severity": 2},
        follow=True,
    )
    assert "rule 6" in _messages(response)
    assert not Case.objects.exists()


def test_opening_a_case_from_admin(world: None, analyst: Any, competitor: Brand) -> None:
    post = PostFactory(text=COMPLAINT)
    client = _client(analyst)
    assert client.get(reverse("admin:outreach_case_add") + f"?post={post.pk}").status_code == 200
    client.post(
        reverse("admin:outreach_case_add"),
        {"post_id": post.pk, "brand": competitor.pk, "kind": "competitor", "severity": 2},
    )
    assert Case.objects.get().post_id == post.pk
    response = client.post(
        reverse("admin:outreach_case_add"),
        {"post_id": 999999, "brand": competitor.pk, "kind": "competitor", "severity": 2},
    )
    assert "No post with this id" in response.content.decode()


def test_opening_a_stale_post_from_admin_is_refused(
    world: None, analyst: Any, competitor: Brand
) -> None:
    post = PostFactory(text=COMPLAINT, posted_at=timezone.now() - dt.timedelta(days=5))
    response = _client(analyst).post(
        reverse("admin:outreach_case_add"),
        {"post_id": post.pk, "brand": competitor.pk, "kind": "competitor", "severity": 2},
        follow=True,
    )
    assert "rule 8" in _messages(response)


def test_opt_out_from_admin_puts_the_person_on_the_list(advance: Any, analyst: Any) -> None:
    case = advance(Stage.APPROVED)
    _move(_client(analyst), case, "opt_out", note="replied by email: stop")
    case.refresh_from_db()
    assert case.stage == Stage.OPTED_OUT
    assert DoNotContact.objects.filter(handle=case.person.handle.casefold()).exists()


def test_dismiss_from_admin_without_a_reason_is_refused(advance: Any, analyst: Any) -> None:
    case = advance(Stage.NEW)
    response = _move(_client(analyst), case, "dismiss", note="")
    case.refresh_from_db()
    assert case.stage == Stage.NEW and "reason" in _messages(response)


def test_the_case_page_cannot_be_saved_directly(advance: Any, admin_user: Any) -> None:
    case = advance(Stage.NEW)
    response = _client(admin_user).post(
        reverse("admin:outreach_case_change", args=[case.pk]), {"stage": "followed"}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.stage == Stage.NEW


# --- bulk actions ------------------------------------------------------------------------


def test_bulk_assign_reports_done_and_skipped(advance: Any, analyst: Any) -> None:
    first, second = advance(Stage.NEW), advance(Stage.NEW)
    closed = advance(Stage.NEW)
    workflow.dismiss(closed, actor=analyst, reason="not a complaint")
    response = _client(analyst).post(
        reverse("admin:outreach_case_changelist") + "?queue=all",
        {"action": "assign_to_me", "_selected_action": [first.pk, second.pk, closed.pk]},
        follow=True,
    )
    text = _messages(response)
    assert "Assigned 2 cases" in text
    assert f"Skipped 1: case {closed.pk} (case {closed.pk} is closed)" in text
    assert Case.objects.filter(assignee=analyst).count() == 2


def test_bulk_dismiss_asks_for_a_reason_then_reports(advance: Any, analyst: Any) -> None:
    first = advance(Stage.NEW)
    closed = advance(Stage.NEW)
    workflow.dismiss(closed, actor=analyst, reason="x")
    client = _client(analyst)
    url = reverse("admin:outreach_case_changelist") + "?queue=all"
    ask = client.post(
        url, {"action": "dismiss_selected", "_selected_action": [first.pk, closed.pk]}
    )
    assert "Dismiss with this reason" in ask.content.decode()
    done = client.post(
        url,
        {
            "action": "dismiss_selected",
            "_selected_action": [first.pk, closed.pk],
            "reason": "bot network",
        },
        follow=True,
    )
    assert "Dismissed 1 case." in _messages(done)
    assert f"case {closed.pk} (cannot dismiss: case is dismissed)" in _messages(done)
    first.refresh_from_db()
    assert first.stage == Stage.DISMISSED and first.dismiss_reason == "bot network"


# --- accounts, playbooks, do-not-contact ----------------------------------------------------


def test_account_credentials_are_write_only_and_encrypted(
    admin_user: Any, secrets_key: str
) -> None:
    client = _client(admin_user)
    secret = "tok-very-secret-123"
    client.post(
        reverse("admin:monitoring_account_add"),
        {
            "platform": "mastodon",
            "handle": "nw@social.example",
            "options": "{}",
            "max_sends_per_hour": 5,
            "enabled": "on",
            "credentials": f"access_token={secret}",
        },
    )
    account = Account.objects.get(handle="nw@social.example")
    assert secret not in account.credentials_encrypted
    assert account.get_credentials() == {"access_token": secret}
    page = client.get(
        reverse("admin:monitoring_account_change", args=[account.pk])
    ).content.decode()
    assert secret not in page and account.credentials_encrypted not in page
    # a failed submit does not echo the secret back either
    bad = client.post(
        reverse("admin:monitoring_account_change", args=[account.pk]),
        {
            "platform": "nope",
            "handle": "",
            "options": "{}",
            "max_sends_per_hour": 5,
            "credentials": f"access_token={secret}",
        },
    ).content.decode()
    assert secret not in bad
    # blank keeps the stored credentials
    client.post(
        reverse("admin:monitoring_account_change", args=[account.pk]),
        {
            "platform": "mastodon",
            "handle": "nw@social.example",
            "options": "{}",
            "max_sends_per_hour": 5,
            "enabled": "on",
            "credentials": "",
        },
    )
    account.refresh_from_db()
    assert account.get_credentials() == {"access_token": secret}


def test_editing_a_playbook_in_admin_makes_a_new_version(playbook: Playbook, reviewer: Any) -> None:
    client = _client(reviewer)
    data = {
        "name": playbook.name,
        "guidance": "Be kind. Nothing to sell.",
        "reply_templates": ["  Sorry to hear it, what happened?  ", "", ""],
        "freshness_hours": 48,
        "due_hours": 12,
        "engagement_window_days": 7,
        "cooldown_days": 30,
        "max_replies_per_brand_per_day": 10,
        "max_replies_per_incident": 3,
        "max_replies_per_account_per_hour": 2,
        "alert_opt_out_percent": 4,
        "alert_stop_percent": 3,
        "alert_block_percent": 2,
        "alert_no_response_percent": 80,
        "four_eyes": "on",
        "edit_note": "tighter",
    }
    response = client.post(reverse("admin:outreach_playbook_change", args=[playbook.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    playbook.refresh_from_db()
    new = Playbook.objects.get(is_active=True, kind="competitor")
    assert not playbook.is_active and new.version == playbook.version + 1
    assert new.freshness_hours == 48 and new.created_by == reviewer
    # The reason as written, then what changed (rule 11: who changed what).
    assert new.change_note.startswith("tighter\n\nChanged:\n")
    assert "freshness_hours: 72 -> 48" in new.change_note
    # The templates were edited as texts, one box each: empty boxes dropped, no JSON.
    assert new.reply_templates == ["Sorry to hear it, what happened?"]


def test_editing_a_playbook_in_admin_needs_the_permission(playbook: Playbook, analyst: Any) -> None:
    response = _client(analyst).post(
        reverse("admin:outreach_playbook_change", args=[playbook.pk]), {"name": "sell harder"}
    )
    assert response.status_code == 403
    assert Playbook.objects.filter(is_active=True).get().pk == playbook.pk


def test_a_retired_playbook_is_read_only_in_admin(playbook: Playbook, reviewer: Any) -> None:
    workflow.edit_playbook(playbook, actor=reviewer, note="v2", changes={"due_hours": 6})
    response = _client(reviewer).post(
        reverse("admin:outreach_playbook_change", args=[playbook.pk]), {"name": "x"}
    )
    assert response.status_code == 403


def test_do_not_contact_admin_records_who_added_the_entry(analyst: Any) -> None:
    _client(analyst).post(
        reverse("admin:outreach_donotcontact_add"),
        {"platform": "sandbox", "handle": "@Someone", "person_external_id": "", "reason": "asked"},
    )
    entry = DoNotContact.objects.get()
    assert entry.handle == "someone" and entry.added_by == analyst
