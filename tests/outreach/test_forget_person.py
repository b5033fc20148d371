"""Issue #14: ``forget_person`` erases a person and keeps the audit skeleton and a hash.

The erasure needs one narrow exception to the frozen outbox texts, case events and
do-not-contact entries; the database holds it on PostgreSQL and SQLite alike: the
file runs on the test settings' PostgreSQL and once more on SQLite in a subprocess
(``test_erasure_holds_on_sqlite_too``), as tests/security/test_database_rules.py does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from monitoring.models import Detection, Person, Post
from outreach import workflow
from outreach.models import (
    ERASED,
    Case,
    CaseEvent,
    DoNotContact,
    EngagementEvent,
    Erasure,
    ErasureSalt,
    OutboundAction,
    ReplyDraft,
    ResearchNote,
    Stage,
)
from outreach.workflow import dbrules
from outreach.workflow.triage import triage
from tests.factories import DetectionFactory
from tests.outreach.factories import COMPLAINT, PersonFactory, PostFactory
from tests.sqlite_rerun import on_sqlite, rerun_on_sqlite

HANDLE = "angry_ann"


@pytest.fixture
def ann(db: None) -> Person:
    return PersonFactory(platform="sandbox", external_id="ann-1", handle=HANDLE)


def _post(person: Person, **fields: Any) -> Post:
    fields.setdefault("posted_at", timezone.now() - dt.timedelta(hours=1))
    fields.setdefault("text", COMPLAINT)
    return PostFactory(author=person, **fields)


def _forget(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("forget_person", *args, stdout=out)
    return out.getvalue()


def _sql(statement: str, *params: Any) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def _replied_and_closed(advance: Any, ann: Person, analyst: Any) -> Case:
    """Ann's case: researched, drafted, approved, the reply sent, Ann answered, dismissed."""
    case = advance(Stage.ENGAGED, post=_post(ann))
    workflow.dismiss(case, actor=analyst, reason=f"@{HANDLE} moved to another provider")
    case.refresh_from_db()
    return case


# --- what is erased, what is kept ------------------------------------------------------


def test_forget_person_erases_posts_names_and_case_texts_and_keeps_the_skeleton(
    advance: Any, ann: Person, analyst: Any, admin_user: Any
) -> None:
    case = _replied_and_closed(advance, ann, analyst)
    loose = _post(ann, text=f"I am {HANDLE}, telvana is down again")
    DetectionFactory(post=loose)
    stages = list(case.events.values_list("action", "origin", "target"))
    reply = OutboundAction.objects.get(case=case, kind="reply")

    out = _forget("sandbox", f"@{HANDLE.upper()}", "--by", admin_user.username, "--note", "DSR-7")

    assert "posts deleted: 1" in out and "erasure" in out
    assert not Post.objects.filter(pk=loose.pk).exists()
    assert not Detection.objects.filter(post_id=loose.pk).exists()
    kept = Post.objects.get(pk=case.post_id)
    assert (kept.text, kept.raw, kept.url) == ("", {}, "")
    assert kept.external_id.startswith("erased-") and kept.redacted_at is not None
    person = Person.objects.get(pk=ann.pk)
    assert (person.handle, person.display_name, person.profile_url) == ("", "", "")
    assert person.external_id.startswith("erased-")
    # The skeleton: the case, every event (and one more: the erasure's), the outbox row.
    case.refresh_from_db()
    assert case.stage == Stage.DISMISSED and case.dismiss_reason == ERASED
    events = list(case.events.values_list("action", "origin", "target", "note"))
    assert [e[:3] for e in events[:-1]] == stages
    assert all(note == "" for *_, note in events[:-1])
    assert events[-1][0] == dbrules.ERASE_ACTION
    reply.refresh_from_db()
    assert (reply.text, reply.in_reply_to, reply.state) == (ERASED, "", "sent")
    assert reply.text_hash and reply.external_id == f"sent-{case.pk}"
    assert ReplyDraft.objects.get(case=case).text == ERASED
    answer = EngagementEvent.objects.get(case=case)
    assert (answer.text, answer.payload) == ("", {})
    assert answer.external_id.startswith("erased-")
    assert ResearchNote.objects.get(case=case).summary == ""
    # A hash on the list, no name anywhere.
    entry = DoNotContact.objects.in_force().get(platform="sandbox")
    assert (entry.handle, entry.person_external_id) == ("", "")
    assert entry.id_hash and entry.handle_hash and HANDLE not in entry.reason
    erasure = Erasure.objects.get()
    assert (erasure.actor, erasure.note, erasure.platform) == (admin_user, "DSR-7", "sandbox")
    assert erasure.counts["posts_deleted"] == 1 and erasure.counts["posts_kept_empty"] == 1
    assert erasure.counts["case_event_notes"] >= 1 and erasure.counts["outbox_texts"] == 1
    assert (erasure.id_hash, erasure.handle_hash) == (entry.id_hash, entry.handle_hash)
    assert not CaseEvent.objects.filter(note__icontains=HANDLE).exists()


def test_an_open_case_is_dismissed_and_its_queued_reply_cancelled_and_erased(
    advance: Any, ann: Person
) -> None:
    case = advance(Stage.APPROVED, post=_post(ann))
    _forget("sandbox", "ann-1")
    case.refresh_from_db()
    assert case.stage == Stage.DISMISSED
    reply = OutboundAction.objects.get(case=case, kind="reply")
    assert (reply.state, reply.text) == ("cancelled", ERASED)


@pytest.mark.parametrize(
    ("external_id", "handle"),
    [("ann-1", "new_name_for_ann"), ("another-id", "@Angry_Ann"), ("ann-1", HANDLE)],
    ids=["same-id", "same-handle", "both"],
)
def test_a_post_seen_after_the_erasure_opens_no_case(
    world: None, competitor: Any, ann: Person, external_id: str, handle: str
) -> None:
    _forget("sandbox", HANDLE)
    again = PersonFactory(platform="sandbox", external_id=external_id, handle=handle)
    detection = DetectionFactory(post=_post(again), brand=competitor)

    triage([detection.pk])

    detection.refresh_from_db()
    assert detection.triage == Detection.Triage.DO_NOT_CONTACT
    assert not Case.objects.exists()


def test_an_opted_out_person_keeps_their_place_on_the_list_as_hashes(
    advance: Any, ann: Person, reviewer: Any
) -> None:
    case = advance(Stage.AWAITING_ENGAGEMENT, post=_post(ann))
    workflow.opt_out(case, actor=reviewer, reason="leave me alone")
    assert DoNotContact.objects.filter(handle=HANDLE).exists()

    _forget("sandbox", HANDLE)

    assert not DoNotContact.objects.filter(handle=HANDLE).exists()
    entry = DoNotContact.objects.in_force().get()
    assert entry.reason == ERASED and entry.id_hash
    assert workflow.dnc_entry("sandbox", "ann-1", "") == entry


def test_a_dry_run_shows_the_counts_and_changes_nothing(advance: Any, ann: Person) -> None:
    advance(Stage.DRAFTING, post=_post(ann))
    _post(ann)
    out = _forget("sandbox", HANDLE, "--dry-run")
    assert "Would erase" in out and "posts deleted: 1" in out and "open cases dismissed: 1" in out
    assert "Dry run: nothing was changed." in out
    assert Post.objects.filter(author=ann).count() == 2
    assert Person.objects.get(pk=ann.pk).handle == HANDLE
    assert not Erasure.objects.exists() and not DoNotContact.objects.exists()


def test_the_erasure_record_is_shown_to_admins_and_edited_by_nobody(
    ann: Person, admin_user: Any, analyst: Any
) -> None:
    from django.test import Client
    from django.urls import reverse

    _forget("sandbox", HANDLE, "--note", "DSR-7")
    erasure = Erasure.objects.get()
    admin = Client()
    admin.force_login(admin_user)
    listing = admin.get(reverse("admin:outreach_erasure_changelist"))
    assert listing.status_code == 200 and "DSR-7" in listing.content.decode()
    page = admin.get(reverse("admin:outreach_erasure_change", args=[erasure.pk]))
    assert page.status_code == 200
    assert "posts_deleted" in page.content.decode() and 'name="_save"' not in page.content.decode()
    assert admin.get(reverse("admin:outreach_erasure_add")).status_code == 403
    delete = reverse("admin:outreach_erasure_delete", args=[erasure.pk])
    assert admin.post(delete).status_code == 403
    other = Client()
    other.force_login(analyst)
    assert other.get(reverse("admin:outreach_erasure_changelist")).status_code == 403


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["myspace", HANDLE], "unknown platform 'myspace'; one of: sandbox, mastodon"),
        (["sandbox", "nobody_here"], "no person with the handle or id 'nobody_here' on sandbox"),
        (["sandbox", "  @ "], "give the person's handle"),
        (["sandbox", HANDLE, "--by", "ghost"], "no user 'ghost'"),
    ],
    ids=["platform", "person", "blank", "user"],
)
def test_bad_input_is_refused_with_a_clear_message(
    ann: Person, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        _forget(*args)
    assert Person.objects.get(pk=ann.pk).handle == HANDLE


def test_forgetting_someone_twice_says_they_were_already_erased(ann: Person) -> None:
    _forget("sandbox", HANDLE)
    with pytest.raises(CommandError, match="already erased"):
        _forget("sandbox", HANDLE)
    assert Erasure.objects.count() == 1


def test_someone_only_on_the_list_is_erased_from_it(db: None) -> None:
    DoNotContact.objects.create(platform="sandbox", handle="quiet_quinn", reason="asked by mail")
    _forget("sandbox", "quiet_quinn")
    assert not DoNotContact.objects.filter(handle="quiet_quinn").exists()
    assert workflow.dnc_entry("sandbox", "", "@Quiet_Quinn") is not None


def test_nothing_is_erased_while_a_send_to_the_person_is_in_flight(
    advance: Any, ann: Person
) -> None:
    case = advance(Stage.APPROVED, post=_post(ann))
    OutboundAction.objects.filter(case=case, kind="reply").update(state="sending")
    with pytest.raises(CommandError, match="in flight right now; nothing was changed"):
        _forget("sandbox", HANDLE)
    case.refresh_from_db()
    assert case.stage == Stage.APPROVED and not Erasure.objects.exists()
    assert Person.objects.get(pk=ann.pk).handle == HANDLE


# --- the exception is narrow, and held by the database -------------------------------------


def test_event_notes_cannot_be_blanked_without_an_erasure(advance: Any, analyst: Any) -> None:
    case = advance(Stage.RESEARCHING)
    workflow.dismiss(case, actor=analyst, reason="not a real complaint")
    event = case.events.get(action="dismiss")
    with pytest.raises(DatabaseError, match="append-only"):
        _sql("UPDATE outreach_caseevent SET note = '' WHERE id = %s", event.pk)
    assert CaseEvent.objects.get(pk=event.pk).note == "not a real complaint"


def test_an_erased_case_allows_blank_notes_only(advance: Any, analyst: Any) -> None:
    case = advance(Stage.RESEARCHING)
    workflow.dismiss(case, actor=analyst, reason="not a real complaint")
    CaseEvent.objects.create(case=case, action=dbrules.ERASE_ACTION, origin="x", target="x")
    event = case.events.get(action="dismiss")
    for statement in (
        "UPDATE outreach_caseevent SET note = 'rewritten' WHERE id = %s",
        "UPDATE outreach_caseevent SET note = '', action = 'claim' WHERE id = %s",
        "DELETE FROM outreach_caseevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            _sql(statement, event.pk)
    erase = case.events.get(action=dbrules.ERASE_ACTION)
    with pytest.raises(DatabaseError, match="append-only"):
        _sql("UPDATE outreach_caseevent SET note = '' WHERE id = %s", erase.pk)
    _sql("UPDATE outreach_caseevent SET note = '' WHERE id = %s", event.pk)
    assert CaseEvent.objects.get(pk=event.pk).note == ""


def test_outbox_text_is_erased_only_on_an_erased_case_and_a_finished_row(advance: Any) -> None:
    sent = advance(Stage.AWAITING_ENGAGEMENT)
    reply = OutboundAction.objects.get(case=sent, kind="reply")
    erase = "UPDATE outreach_outboundaction SET text = %s, in_reply_to = '' WHERE id = %s"
    with pytest.raises(IntegrityError, match="fixed once queued"):
        _sql(erase, ERASED, reply.pk)
    CaseEvent.objects.create(case=sent, action=dbrules.ERASE_ACTION, origin="x", target="x")
    with pytest.raises(IntegrityError, match="fixed once queued"):
        _sql(erase, "Buy now, SAVE20", reply.pk)
    with pytest.raises(IntegrityError, match="fixed once queued"):
        _sql(
            "UPDATE outreach_outboundaction SET text = %s, kind = 'follow' WHERE id = %s",
            ERASED,
            reply.pk,
        )
    _sql(erase, ERASED, reply.pk)
    assert OutboundAction.objects.get(pk=reply.pk).text == ERASED
    # A queued row is still checked against its draft at send time: not erasable.
    queued = advance(Stage.APPROVED)
    pending = OutboundAction.objects.get(case=queued, kind="reply")
    CaseEvent.objects.create(case=queued, action=dbrules.ERASE_ACTION, origin="x", target="x")
    with pytest.raises(IntegrityError, match="fixed once queued"):
        _sql(erase, ERASED, pending.pk)


def test_a_list_entry_trades_names_only_for_the_hashes_of_an_erasure_on_record(
    db: None,
) -> None:
    entry = DoNotContact.objects.create(platform="sandbox", handle="quinn", reason="stop")
    trade = (
        "UPDATE outreach_donotcontact SET handle = '', person_external_id = '', "
        "id_hash = %s, handle_hash = %s, reason = %s WHERE id = %s"
    )
    with pytest.raises(DatabaseError, match="append-only"):
        _sql(trade, "a" * 64, "b" * 64, ERASED, entry.pk)
    Erasure.objects.create(platform="sandbox", id_hash="a" * 64, handle_hash="b" * 64)
    for args in (("a" * 64, "c" * 64, ERASED), ("a" * 64, "b" * 64, "rewritten reason")):
        with pytest.raises(DatabaseError, match="append-only"):
            _sql(trade, *args, entry.pk)
    _sql(trade, "a" * 64, "b" * 64, ERASED, entry.pk)
    # Once hashed, the entry is as fixed as any other.
    with pytest.raises(DatabaseError, match="append-only"):
        _sql("UPDATE outreach_donotcontact SET id_hash = 'x' WHERE id = %s", entry.pk)
    with pytest.raises(DatabaseError, match="never deleted"):
        _sql("DELETE FROM outreach_donotcontact WHERE id = %s", entry.pk)


def test_erasure_records_and_the_salt_are_never_edited_or_deleted(ann: Person) -> None:
    _forget("sandbox", HANDLE)
    erasure = Erasure.objects.get()
    for statement in (
        "UPDATE outreach_erasure SET note = 'nothing happened' WHERE id = %s",
        "DELETE FROM outreach_erasure WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="never edited or deleted"):
            _sql(statement, erasure.pk)
    with pytest.raises(DatabaseError, match="never edited or deleted"):
        _sql("UPDATE outreach_erasuresalt SET value = 'guessable'")
    with pytest.raises(ValueError, match="append-only"):
        erasure.delete()
    assert ErasureSalt.objects.count() == 1


# --- the same on SQLite ------------------------------------------------------------------


def test_erasure_holds_on_sqlite_too(tmp_path: Path) -> None:
    rerun_on_sqlite(__file__, "test_erasure_holds_on_sqlite_too", tmp_path)


@pytest.mark.django_db
def test_each_run_is_on_its_database() -> None:
    assert connection.vendor == ("sqlite" if on_sqlite() else "postgresql")


def test_forget_person_deletes_the_labels_given_on_their_posts_or_their_texts(
    advance: Any, ann: Person, analyst: Any
) -> None:
    from monitoring import labels
    from monitoring.models import Label

    # given labels on Ann's loose post (the queue), on her case's post (a correction), an
    # import of the same text as another of her posts (no link), and someone else's label
    case = advance(Stage.DRAFTING, post=_post(ann, text=f"{COMPLAINT} (case)"))
    loose = _post(ann, text="telvana billing charged me twice, @angry_ann here")
    imported = _post(ann, text="telvana support hung up on me again")
    labels.record(loose.text, True, Label.Source.QUEUE, post=loose, user=analyst)
    labels.record(case.post.text, True, Label.Source.CORRECTION, post=case.post)
    labels.record("Telvana support hung up on me  again", True, Label.Source.IMPORT)
    other = labels.record("someone else's words about telvana", False, Label.Source.IMPORT)
    assert imported.text
    # when Ann is forgotten (the dry run counts them first)
    assert "labels deleted: 3" in _forget("sandbox", HANDLE, "--dry-run")
    _forget("sandbox", HANDLE)
    # then only the other person's label is left
    assert list(Label.objects.values_list("pk", flat=True)) == [other.pk]
    assert Erasure.objects.get().counts["labels_deleted"] == 3


@pytest.mark.django_db
def test_a_subject_hash_without_a_salt_given_uses_the_installs_salt() -> None:
    from outreach import erasure

    value = erasure.subject_hash("mastodon", "handle", "maya@example.social")
    assert value == erasure.subject_hash(
        "mastodon", "handle", "maya@example.social", salt=erasure.salt()
    )
    assert len(value) == 64
