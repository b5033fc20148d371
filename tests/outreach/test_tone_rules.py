"""The tone guard's rule table: every code declared once, and everything else built from it."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from outreach.models import Stage
from outreach.tone import (
    ALWAYS_BLOCKING,
    CODES,
    PLAYBOOKS,
    RULES,
    SALES_CODES,
    WARNING_CODES,
    ReplyContext,
    Severity,
    check_reply,
)

OWN = ("Northwind", "Northwind Fibre", "NW Unlimited")
COMPETITORS = ("Telvana", "Orbix")
POST = "Telvana has been down since 6am and I work from home."
# One reply per code that the code's finder catches on every reply it is checked on
# (the empty one is a zero-width space), and the context each needs besides the usual.
EXAMPLES = {
    code.strip(): text.strip()
    for code, text in (
        row.split("|")
        for row in """
own_brand_named         | Sorry the outage hit you. Northwind was fine here.
link                    | Sorry the outage hit you. See telvana-status.com for updates.
price                   | Sorry the outage hit you. Plans from $20 a month.
discount                | Sorry the outage hit you. We do 50% off for switchers.
offer                   | Sorry the outage hit you. There is a free trial.
promo_code              | Sorry the outage hit you. Promo code inside.
call_to_action          | Sorry the outage hit you. Time to switch providers.
self_promotion          | Sorry the outage hit you. Our fibre is fine.
follow_request          | Sorry the outage hit you. Follow us for updates.
own_hashtag             | Sorry the outage hit you. #NorthwindCares
disparages_competitor   | Sorry the outage hit you. Telvana is a joke.
legal_threat            | Sorry the outage hit you. Talk to a lawyer.
threat                  | Sorry the outage hit you. You'll regret this.
arguing                 | Sorry the outage hit you. You're wrong about the outage.
blames_customer         | Sorry the outage hit you. It's your own fault.
delete_request          | Sorry the outage hit you. Please delete this post.
placeholder             | Sorry the outage hit you. Hi {name}.
too_long                | Sorry the outage hit you. Hope it is back soon.
empty                   | \u200b
no_reference_to_problem | Have a lovely day.
no_contact_route        | Sorry the outage hit you. Hope it is back soon.
no_disclosure           | Sorry the outage hit you. Hope it is back soon.
language_unchecked      | Ci dispiace molto per il disservizio, speriamo che si risolva presto.
shouting                | Sorry the outage hit you. THIS IS NOT GOOD ENOUGH AT ALL.
exclamation_run         | Sorry the outage hit you. Hope it is back soon!!!
emoji_run               | Sorry the outage hit you. Hope it is back soon 🙏🙏🙏
unchanged_template      | Sorry the outage hit you. Hope it is back soon.
""".strip().splitlines()
    )
}
CHANGES: dict[str, dict[str, Any]] = {
    "own_hashtag": {"own_hashtags": ("#NorthwindCares",)},
    "too_long": {"max_length": 10},
    "no_disclosure": {"personal_account": True},
    "unchanged_template": {"templates": (EXAMPLES["unchanged_template"],)},
}


def context(playbook: str, first_reply: bool, **changes: Any) -> ReplyContext:
    fields: dict[str, Any] = {
        "playbook": playbook,
        "own_terms": OWN,
        "competitor_terms": COMPETITORS,
        "post_text": POST,
        "first_reply": first_reply,
    }
    return ReplyContext(**(fields | changes))


CASES = [(p, first) for p in PLAYBOOKS for first in (True, False)]


def test_each_code_is_declared_once_and_the_rest_is_built_from_the_table() -> None:
    codes = [rule.code for rule in RULES]
    assert len(codes) == len(set(codes))
    assert {rule.code: rule.message for rule in RULES} == CODES
    # The severity classes are disjoint subsets of the table's codes.
    assert set(codes) >= SALES_CODES | ALWAYS_BLOCKING | WARNING_CODES
    assert not (SALES_CODES & ALWAYS_BLOCKING or SALES_CODES & WARNING_CODES)
    assert not ALWAYS_BLOCKING & WARNING_CODES


def test_the_documented_table_shows_each_codes_message_and_weights() -> None:
    import outreach.tone as tone

    assert tone.__doc__ is not None
    lines = tone.__doc__.splitlines()
    for rule in RULES:
        row = next(line for line in lines if line.startswith(rule.code + " "))
        cells = row.split()
        assert rule.message in row
        assert cells[-4:] == [s.value for s in rule.weight.cells()], rule.code


def test_every_code_has_an_example_here() -> None:
    # A code added to the table without an example, or an example for a code that
    # is gone, fails here.
    assert set(EXAMPLES) == set(CODES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
@pytest.mark.parametrize(("playbook", "first_reply"), CASES)
def test_a_finding_weighs_what_its_rule_says_and_carries_its_message(
    rule: Any, playbook: str, first_reply: bool
) -> None:
    # Given the code's example under one playbook and reply kind
    text, changes = EXAMPLES[rule.code], CHANGES.get(rule.code, {})
    ctx = context(playbook, first_reply, **changes)

    # When it is checked
    found = [f for f in check_reply(text, ctx) if f.code == rule.code]

    # Then the code is found exactly where the table checks it, blocking or not as it says
    severity = rule.severity(ctx)
    if severity is Severity.UNCHECKED:
        assert found == []
        return
    assert found, f"{rule.code} not found in {text!r}"
    for f in found:
        assert f.blocking is (severity is Severity.BLOCKS)
        assert f.message == rule.message or f.message.startswith(rule.message + ": ")


def test_the_check_reply_command_reports_the_tables_codes_by_weight(tmp_path: Path) -> None:
    # Given every example as a competitor's first reply on the sandbox platform
    path = tmp_path / "drafts.jsonl"
    rows = []
    for code, text in EXAMPLES.items():
        changes = CHANGES.get(code, {})
        if "max_length" in changes or "own_hashtags" in changes:
            continue  # the command takes limits from the platform and has no hashtag field
        row = {
            "id": code,
            "text": text,
            "platform": "sandbox",
            "playbook": "competitor",
            "own_terms": list(OWN),
            "competitor_terms": list(COMPETITORS),
            "post_text": POST,
            **{k: v if isinstance(v, bool) else list(v) for k, v in changes.items()},
        }
        rows.append(json.dumps(row))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    # When the command checks them
    out = io.StringIO()
    call_command("check_reply", "--jsonl", str(path), stdout=out)

    # Then each line names its code in the list the table puts it in
    by_code = {rule.code: rule for rule in RULES}
    for result in map(json.loads, out.getvalue().splitlines()):
        rule = by_code[result["id"]]
        severity = rule.severity(context("competitor", True))
        assert set(result["blocking"]) | set(result["warnings"]) <= set(CODES)
        if severity is Severity.BLOCKS:
            assert rule.code in result["blocking"]
        elif severity is Severity.WARNS:
            assert rule.code in result["warnings"]
        else:
            assert rule.code not in result["blocking"] + result["warnings"]


@pytest.mark.django_db
def test_the_admin_shows_each_findings_message_from_the_table(advance: Any, analyst: Any) -> None:
    # Given a salesy draft saved from the admin
    case = advance(Stage.DRAFTING)
    client = Client()
    client.force_login(analyst)
    client.post(
        reverse("admin:outreach_case_draft", args=[case.pk]),
        {"text": "Switch to Northwind, check out northwind.example"},
    )

    # When the case page is shown
    page = html.unescape(
        client.get(reverse("admin:outreach_case_change", args=[case.pk])).content.decode()
    )

    # Then every stored finding shows in the table's words, its code beside
    case.refresh_from_db()
    findings = case.drafts.latest("pk").tone_findings
    assert findings
    for f in findings:
        assert f'{CODES[f["code"]]}</b> <code class="nj-code">{f["code"]}</code>' in page
