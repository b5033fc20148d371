"""Issue #18, items 5 and 6 in the workflow: a reviewer overrules a warning or a model
finding with a written reason (audited, counted per code); the firm codes and blocking
pattern findings never; replies from a staff member's personal account must disclose."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from outreach import workflow
from outreach.models import ERASED, CaseEvent, FindingOverrule, ReplyDraft, Stage
from outreach.workflow.checks import Attempt, tone_clean
from outreach.workflow.rules import RuleViolation, WorkflowError
from tests.outreach.factories import GOOD_REPLY

pytestmark = pytest.mark.django_db

LINK_REPLY = "Sorry the line keeps dropping, that is rough. See telvana-status.com for updates."


def _draft(case: Any) -> ReplyDraft:
    return ReplyDraft.objects.filter(case_id=case.pk).latest("pk")


def _with_findings(case: Any, findings: list[dict[str, Any]]) -> ReplyDraft:
    draft = _draft(case)
    ReplyDraft.objects.filter(pk=draft.pk).update(tone_findings=findings)
    draft.refresh_from_db()
    return draft


def _finding(code: str, *, blocking: bool, source: str | None = None) -> dict[str, Any]:
    f: dict[str, Any] = {"code": code, "blocking": blocking, "message": code, "start": 0, "end": 1}
    if source:
        f["source"] = source
    return f


def test_a_warning_is_overruled_with_a_reason_recorded_in_the_audit(
    advance: Any, reviewer: Any
) -> None:
    case = advance(Stage.AWAITING_APPROVAL, reply=GOOD_REPLY + " Hope it's back soon!!!")
    draft = _draft(case)
    assert "exclamation_run" in {f["code"] for f in draft.tone_findings}

    row = workflow.overrule_finding(
        case, actor=reviewer, draft=draft, code="exclamation_run", reason="their own tone"
    )

    assert (row.code, row.source, row.reason) == ("exclamation_run", "pattern", "their own tone")
    event = CaseEvent.objects.filter(case_id=case.pk, action="overrule_finding").get()
    assert "exclamation_run" in event.note and "their own tone" in event.note
    assert event.origin == event.target == Stage.AWAITING_APPROVAL


@pytest.mark.parametrize("source", [None, "model"])
def test_a_link_finding_can_never_be_overruled_even_calling_the_workflow_directly(
    advance: Any, reviewer: Any, source: str | None
) -> None:
    case = advance(Stage.DRAFTING, reply=LINK_REPLY)
    draft = _draft(case)
    if source:
        draft = _with_findings(case, [_finding("link", blocking=True, source=source)])
    assert "link" in {f["code"] for f in draft.tone_findings if f["blocking"]}

    with pytest.raises(RuleViolation, match="never be overruled"):
        workflow.overrule_finding(
            case, actor=reviewer, draft=draft, code="link", source=source or "pattern",
            reason="it's only the status page",
        )  # fmt: skip

    assert not FindingOverrule.objects.exists()
    assert not CaseEvent.objects.filter(action="overrule_finding").exists()
    assert tone_clean(Attempt(case=case)) is not None


def test_a_blocking_pattern_finding_is_refused_but_the_same_code_from_the_model_is_not(
    advance: Any, reviewer: Any
) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    draft = _with_findings(case, [_finding("arguing", blocking=True)])
    with pytest.raises(RuleViolation, match="blocking pattern finding"):
        workflow.overrule_finding(case, actor=reviewer, draft=draft, code="arguing", reason="no")

    draft = _with_findings(case, [_finding("arguing", blocking=True, source="model")])
    assert tone_clean(Attempt(case=case)) is not None
    workflow.overrule_finding(
        case, actor=reviewer, draft=draft, code="arguing", source="model",
        reason="a long warm reply, not an argument",
    )  # fmt: skip
    assert tone_clean(Attempt(case=case)) is None


def test_an_overrule_holds_for_the_text_it_was_given_on(advance: Any, reviewer: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL)
    draft = _with_findings(case, [_finding("arguing", blocking=True, source="model")])
    workflow.overrule_finding(
        case, actor=reviewer, draft=draft, code="arguing", source="model", reason="fine"
    )
    ReplyDraft.objects.filter(pk=draft.pk).update(text=draft.text + " Edited.")
    assert tone_clean(Attempt(case=case)) is not None


@pytest.mark.parametrize(
    ("code", "reason", "error"),
    [
        ("exclamation_run", "   ", "say why"),
        ("shouting", "because", "no pattern finding"),
    ],
)
def test_an_overrule_needs_a_reason_and_a_finding_to_overrule(
    advance: Any, reviewer: Any, code: str, reason: str, error: str
) -> None:
    case = advance(Stage.AWAITING_APPROVAL, reply=GOOD_REPLY + " Hope it's back soon!!!")
    with pytest.raises(WorkflowError, match=error):
        workflow.overrule_finding(
            case, actor=reviewer, draft=_draft(case), code=code, reason=reason
        )


def test_only_a_reviewer_may_overrule(advance: Any, analyst: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL, reply=GOOD_REPLY + " Hope it's back soon!!!")
    with pytest.raises(RuleViolation, match="approve permission"):
        workflow.overrule_finding(
            case, actor=analyst, draft=_draft(case), code="exclamation_run", reason="fine"
        )


def test_the_admin_counts_overrules_per_code(advance: Any, reviewer: Any, admin_user: Any) -> None:
    case = advance(Stage.AWAITING_APPROVAL, reply=GOOD_REPLY + " Hope it's back soon!!!")
    workflow.overrule_finding(
        case, actor=reviewer, draft=_draft(case), code="exclamation_run", reason="<b>ok</b>"
    )
    client = Client()
    client.force_login(admin_user)
    page = client.get(reverse("admin:outreach_findingoverrule_changelist")).content.decode()
    assert "<td>exclamation_run</td><td>pattern</td><td>1</td>" in page
    case_page = client.get(reverse("admin:outreach_case_change", args=[case.pk])).content.decode()
    assert "&lt;b&gt;ok&lt;/b&gt;" in case_page and "<b>ok</b>" not in case_page


def test_a_reply_from_a_personal_account_must_disclose_and_the_case_page_says_so(
    advance: Any, account: Any, analyst: Any
) -> None:
    account.personal_account = True
    account.save()
    case = advance(Stage.DRAFTING)
    text = "Sorry the line keeps dropping <script>alert(1)</script>, hope it's fixed soon."
    workflow.save_draft(case, actor=analyst, text=text)
    assert "no_disclosure" in {f["code"] for f in _draft(case).tone_findings if f["blocking"]}

    client = Client()
    client.force_login(analyst)
    page = client.get(reverse("admin:outreach_case_change", args=[case.pk])).content.decode()
    assert "a staff member&#x27;s personal account" in page or "personal account" in page
    assert "no_disclosure" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    workflow.save_draft(case, actor=analyst, text="I work at Northwind. " + text)
    assert "no_disclosure" not in {f["code"] for f in _draft(case).tone_findings}


def test_a_reviewer_overrules_from_the_case_page_and_a_link_is_refused_there_too(
    advance: Any, reviewer: Any
) -> None:
    client = Client()
    client.force_login(reviewer)
    case = advance(Stage.AWAITING_APPROVAL, reply=GOOD_REPLY + " Hope it's back soon!!!")
    draft = _draft(case)
    page = client.get(reverse("admin:outreach_case_change", args=[case.pk])).content.decode()
    assert 'value="exclamation_run:pattern"' in page

    url = reverse("admin:outreach_case_overrule", args=[case.pk])
    form = {"draft": draft.pk, "finding": "exclamation_run:pattern", "reason": "matches theirs"}
    client.post(url, form)
    assert FindingOverrule.objects.filter(case=case, code="exclamation_run").count() == 1

    linked = advance(Stage.DRAFTING, reply=LINK_REPLY)
    page = client.get(reverse("admin:outreach_case_change", args=[linked.pk])).content.decode()
    assert 'value="link:pattern"' not in page
    form = {"draft": _draft(linked).pk, "finding": "link:pattern", "reason": "forged"}
    client.post(reverse("admin:outreach_case_overrule", args=[linked.pk]), form)
    assert not FindingOverrule.objects.filter(case=linked).exists()


def test_forgetting_the_person_erases_the_overrule_reasons_and_keeps_the_counts(
    advance: Any, reviewer: Any, admin_user: Any
) -> None:
    case = advance(Stage.AWAITING_APPROVAL, reply=GOOD_REPLY + " Hope it's back soon!!!")
    workflow.overrule_finding(
        case, actor=reviewer, draft=_draft(case), code="exclamation_run", reason="as @ann wrote"
    )
    person = case.person
    call_command(
        "forget_person", person.platform, person.handle, "--by", admin_user.username,
        stdout=io.StringIO(),
    )  # fmt: skip
    row = FindingOverrule.objects.get(case=case)
    assert (row.code, row.reason) == ("exclamation_run", ERASED)
