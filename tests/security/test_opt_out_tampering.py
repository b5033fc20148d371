"""Issue #12, attack 4: an opt-out undone by two admin edits.

A reviewer renamed a do-not-contact entry's handle and id and set a playbook's
cooldown to 0; a new case was then opened for a person who had asked us to stop,
and neither edit left a trace. Each test below tries one piece of that from one
entry point (admin, form, workflow, ORM, SQL) and expects a refusal, or an
audit record where the change is legitimate.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Brand, Person
from outreach import workflow
from outreach.forms import PlaybookForm
from outreach.models import Case, DoNotContact, Playbook, PlaybookKind
from tests.outreach.factories import COMPLAINT, PersonFactory, PostFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def opted_out() -> Person:
    """A person who wrote "please stop messaging me": on the list by id and handle."""
    person = PersonFactory(handle="Quiet_Quinn")
    DoNotContact.objects.create(
        platform=person.platform,
        person_external_id=person.external_id,
        handle=person.handle,
        reason="please stop messaging me",
    )
    return person


def _entry(person: Person) -> DoNotContact:
    return DoNotContact.objects.get(person_external_id=person.external_id)


def _new_post_by(person: Person) -> Any:
    return PostFactory(author=person, text=COMPLAINT, posted_at=timezone.now())


def _playbook_form_data(playbook: Playbook, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        name: getattr(playbook, name) for name in workflow.PLAYBOOK_EDITABLE_FIELDS
    }
    data["reply_templates"] = ["", ""]
    data["four_eyes"] = "on" if playbook.four_eyes else ""
    data["auto_follow"] = "on" if playbook.auto_follow else ""
    data["edit_note"] = "tamper"
    data.update(changes)
    return {k: v for k, v in data.items() if v not in ("", None)}


# --- renaming a do-not-contact entry ---------------------------------------------------------


def test_renaming_a_dnc_entry_in_admin_is_refused_even_for_an_admin(
    opted_out: Person, reviewer: Any, admin_user: Any
) -> None:
    entry = _entry(opted_out)
    url = reverse("admin:outreach_donotcontact_change", args=[entry.pk])
    data = {"platform": entry.platform, "handle": "someone_else", "person_external_id": "x-1"}
    for user in (reviewer, admin_user):
        _client(user).post(url, {**data, "reason": "typo"})
    entry.refresh_from_db()
    assert (entry.handle, entry.person_external_id) == ("quiet_quinn", opted_out.external_id)


def test_reviewers_may_add_to_the_dnc_list_but_not_change_it(reviewer: Any) -> None:
    assert reviewer.has_perm("outreach.add_donotcontact")
    assert not reviewer.has_perm("outreach.change_donotcontact")
    assert not reviewer.has_perm(workflow.DNC_REMOVE_PERMISSION)


def test_the_dnc_change_page_is_read_only(opted_out: Person, reviewer: Any) -> None:
    response = _client(reviewer).get(
        reverse("admin:outreach_donotcontact_change", args=[_entry(opted_out).pk])
    )
    assert response.status_code == 200
    assert 'name="handle"' not in response.content.decode()


def test_renaming_a_dnc_entry_by_the_orm_is_refused(opted_out: Person) -> None:
    entry = _entry(opted_out)
    entry.handle = "someone_else"
    with pytest.raises(ValueError, match="cannot be edited"):
        entry.save()


def test_renaming_a_dnc_entry_by_sql_is_refused_by_the_database(opted_out: Person) -> None:
    for column, value in (("handle", "x"), ("person_external_id", "x-1"), ("platform", "x")):
        with pytest.raises(DatabaseError), transaction.atomic():
            DoNotContact.objects.filter(person_external_id=opted_out.external_id).update(
                **{column: value}
            )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE outreach_donotcontact SET reason = 'never mind'")
    assert _entry(opted_out).handle == "quiet_quinn"


def test_deleting_a_dnc_entry_is_refused(opted_out: Person, admin_user: Any) -> None:
    entry = _entry(opted_out)
    with pytest.raises(ValueError, match="never deleted"):
        entry.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        DoNotContact.objects.all().delete()
    _client(admin_user).post(
        reverse("admin:outreach_donotcontact_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert DoNotContact.objects.in_force().count() == 1


# --- removing one: admins only, with a reason, on record -------------------------------------


def test_removing_a_dnc_entry_as_a_reviewer_is_refused(opted_out: Person, reviewer: Any) -> None:
    entry = _entry(opted_out)
    with pytest.raises(workflow.RuleViolation):
        workflow.remove_dnc_entry(entry, actor=reviewer, reason="they asked again")
    _client(reviewer).post(
        reverse("admin:outreach_donotcontact_changelist"),
        {"action": "remove_selected", "_selected_action": [entry.pk], "removal_reason": "x"},
    )
    assert DoNotContact.objects.in_force().filter(pk=entry.pk).exists()


def test_removing_a_dnc_entry_as_an_admin_needs_a_reason_and_is_audited(
    opted_out: Person, admin_user: Any
) -> None:
    entry = _entry(opted_out)
    changelist = reverse("admin:outreach_donotcontact_changelist")
    asked = _client(admin_user).post(
        changelist, {"action": "remove_selected", "_selected_action": [entry.pk]}
    )
    assert asked.status_code == 200 and "removal_reason" in asked.content.decode()
    assert DoNotContact.objects.in_force().exists()

    _client(admin_user).post(
        changelist,
        {
            "action": "remove_selected",
            "_selected_action": [entry.pk],
            "removal_reason": "added to the wrong person",
        },
    )
    entry.refresh_from_db()
    assert entry.removed_by == admin_user and entry.removed_at is not None
    assert entry.removal_reason == "added to the wrong person"
    assert entry.handle == "quiet_quinn" and entry.reason == "please stop messaging me"
    assert workflow.dnc_entry(opted_out.platform, opted_out.external_id, "") is None
    # Removed once: the record cannot be rewritten afterwards, by the move or by SQL.
    with pytest.raises(workflow.WorkflowError):
        workflow.remove_dnc_entry(entry, actor=admin_user, reason="again")
    with pytest.raises(DatabaseError), transaction.atomic():
        DoNotContact.objects.filter(pk=entry.pk).update(removal_reason="nothing to see")


# --- the playbook's cooldown and caps --------------------------------------------------------


def test_a_zero_cooldown_is_refused_by_the_admin_form(playbook: Playbook, reviewer: Any) -> None:
    response = _client(reviewer).post(
        reverse("admin:outreach_playbook_change", args=[playbook.pk]),
        _playbook_form_data(playbook, cooldown_days=0),
    )
    assert response.status_code == 200 and "cooldown cannot be shorter" in response.content.decode()
    assert Playbook.objects.get(is_active=True).pk == playbook.pk


def test_a_zero_cooldown_is_refused_by_the_form_and_the_workflow(
    playbook: Playbook, reviewer: Any
) -> None:
    form = PlaybookForm(_playbook_form_data(playbook, cooldown_days=0), instance=playbook)
    assert not form.is_valid() and "cooldown_days" in form.errors
    with pytest.raises(workflow.RuleViolation, match="cooldown"):
        workflow.edit_playbook(playbook, actor=reviewer, note="x", changes={"cooldown_days": 0})
    with pytest.raises(workflow.RuleViolation, match="cooldown"):
        workflow.create_playbook(actor=None, kind=PlaybookKind.OWN_BRAND, cooldown_days=1)


def test_a_zero_cooldown_is_refused_by_the_database(playbook: Playbook) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Playbook.objects.filter(pk=playbook.pk).update(cooldown_days=0)


def test_the_cooldown_floor_setting_can_only_be_stricter(
    playbook: Playbook, reviewer: Any, settings: Any
) -> None:
    settings.NOJACKAL_MIN_COOLDOWN_DAYS = 21
    with pytest.raises(workflow.RuleViolation, match="21 days"):
        workflow.edit_playbook(playbook, actor=reviewer, note="x", changes={"cooldown_days": 14})


def test_caps_cannot_be_raised_above_their_ceiling(playbook: Playbook, reviewer: Any) -> None:
    for name in ("max_replies_per_brand_per_day", "max_replies_per_incident"):
        with pytest.raises(workflow.RuleViolation, match="cannot be raised"):
            workflow.edit_playbook(playbook, actor=reviewer, note="x", changes={name: 10_000})
        with pytest.raises(IntegrityError), transaction.atomic():
            Playbook.objects.filter(pk=playbook.pk).update(**{name: 10_000})
    form = PlaybookForm(
        _playbook_form_data(playbook, max_replies_per_account_per_hour=500), instance=playbook
    )
    assert not form.is_valid() and "max_replies_per_account_per_hour" in form.errors


def test_a_playbook_edit_records_who_changed_what(playbook: Playbook, reviewer: Any) -> None:
    new = workflow.edit_playbook(
        playbook, actor=reviewer, note="slower", changes={"cooldown_days": 45, "due_hours": 12}
    )
    assert new.created_by == reviewer and new.previous == playbook
    assert new.change_note == "slower\n\nChanged:\ndue_hours: 24 -> 12\ncooldown_days: 30 -> 45"
    page = _client(reviewer).get(reverse("admin:outreach_playbook_change", args=[new.pk]))
    assert "cooldown_days: 30 -&gt; 45" in page.content.decode()


def test_the_playbook_page_opens_for_an_analyst_and_for_a_retired_version(
    playbook: Playbook, analyst: Any, reviewer: Any
) -> None:
    url = reverse("admin:outreach_playbook_change", args=[playbook.pk])
    assert _client(analyst).get(url).status_code == 200
    workflow.edit_playbook(playbook, actor=reviewer, note="v2", changes={"due_hours": 6})
    assert _client(reviewer).get(url).status_code == 200
    assert _client(analyst).get(url).status_code == 200


# --- the attack end to end -------------------------------------------------------------------


def test_a_case_for_an_opted_out_person_is_still_refused_after_the_attempted_edits(
    opted_out: Person, playbook: Playbook, reviewer: Any, competitor: Brand
) -> None:
    entry = _entry(opted_out)
    client = _client(reviewer)
    client.post(
        reverse("admin:outreach_donotcontact_change", args=[entry.pk]),
        {
            "platform": entry.platform,
            "handle": "renamed",
            "person_external_id": "x-1",
            "reason": "-",
        },
    )
    client.post(
        reverse("admin:outreach_playbook_change", args=[playbook.pk]),
        _playbook_form_data(playbook, cooldown_days=0),
    )
    with pytest.raises(workflow.RuleViolation, match="do-not-contact"):
        workflow.open_case(_new_post_by(opted_out).pk, competitor.pk, PlaybookKind.COMPETITOR)
    assert not Case.objects.exists()


def test_matching_uses_the_stable_id_after_a_handle_change_on_the_platform(
    opted_out: Person, playbook: Playbook, competitor: Brand
) -> None:
    Person.objects.filter(pk=opted_out.pk).update(handle="brand_new_name")
    opted_out.refresh_from_db()
    assert workflow.dnc_entry(opted_out.platform, opted_out.external_id, "brand_new_name")
    with pytest.raises(workflow.RuleViolation, match="do-not-contact"):
        workflow.open_case(_new_post_by(opted_out).pk, competitor.pk, PlaybookKind.COMPETITOR)


def test_matching_by_handle_ignores_case_and_the_at_sign(db: None) -> None:
    DoNotContact.objects.create(platform="sandbox", handle="@Loud_Lou", reason="asked")
    assert workflow.dnc_entry("sandbox", "", "LOUD_lou") is not None
    assert workflow.dnc_entry("sandbox", "no-such-id", "@loud_lou") is not None
    assert workflow.dnc_entry("mastodon", "", "loud_lou") is None


# --- the same triggers on SQLite -------------------------------------------------------------


def test_the_sqlite_database_refuses_renaming_and_deleting_a_dnc_entry(tmp_path: Path) -> None:
    path = tmp_path / "optout.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=600,
    )
    db = sqlite3.connect(path)
    now = dt.datetime.now(dt.UTC).isoformat()
    db.execute(
        "INSERT INTO outreach_donotcontact (platform, person_external_id, handle, reason, "
        "created_at, removal_reason) VALUES ('sandbox', 'u-1', 'quinn', 'stop', ?, '')",
        (now,),
    )
    db.commit()
    for statement in (
        "UPDATE outreach_donotcontact SET handle = 'renamed'",
        "UPDATE outreach_donotcontact SET person_external_id = 'u-2'",
        "DELETE FROM outreach_donotcontact",
    ):
        with pytest.raises(sqlite3.DatabaseError):
            db.execute(statement)
    assert db.execute("SELECT handle FROM outreach_donotcontact").fetchall() == [("quinn",)]
    db.close()
