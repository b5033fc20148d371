"""``manage.py demo`` (what ``make run`` calls) seeds both sides and can run again."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands

from monitoring.models import Account, Brand, SandboxPost, Source
from outreach.models import Playbook

pytestmark = pytest.mark.django_db


def _demo() -> str:
    out = io.StringIO()
    call_command("demo", "--cadence", "30", stdout=out)
    return out.getvalue()


def test_the_demo_command_belongs_to_outreach_and_seeds_both_sides_once(
    monkeypatch: Any, roles: None
) -> None:
    monkeypatch.setenv("NOJACKAL_DEMO_PASSWORD", "pw-for-demo")
    assert get_commands()["demo"] == "outreach"

    first = _demo()
    counts = (
        Brand.objects.count(),
        Source.objects.count(),
        SandboxPost.objects.count(),
        Playbook.objects.count(),
        Account.objects.count(),
    )
    second = _demo()

    assert "Login: admin / pw-for-demo" in first and "0 new source(s)" in second
    assert counts[0] > 0 and counts[1] == counts[0] and counts[2] > 0
    assert counts == (
        Brand.objects.count(),
        Source.objects.count(),
        SandboxPost.objects.count(),
        Playbook.objects.count(),
        Account.objects.count(),
    )
    assert set(Source.objects.values_list("cadence_seconds", flat=True)) == {30}
    assert Account.objects.filter(platform="sandbox", handle="northwind_care").exists()
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    reviewer = users.get(username="reviewer")
    assert reviewer.has_perm("monitoring.view_account")
    assert not reviewer.has_perm("monitoring.change_account")


def test_in_the_demos_first_ten_minutes_our_brands_complaints_open_cases_and_praise_does_not(
    roles: None,
) -> None:
    # Given the demo as `make run` loads it, judged by the default model (no version active)
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from monitoring import ingest, sandbox_server, triage
    from monitoring.models import Detection
    from outreach.models import Case, PlaybookKind

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _demo()
    corpus = {p["text"]: p for p in sandbox_server.load_corpus()["posts"]}
    # When ten minutes have passed, every source has been polled and every post judged
    with time_machine.travel(start + dt.timedelta(minutes=10, seconds=30), tick=False):
        for source_id in Source.objects.values_list("pk", flat=True):
            ingest.poll(source_id)
        while triage.run():
            pass
    ours = [
        (corpus[d.post.text], d)
        for d in Detection.objects.select_related("post", "brand")
        if d.brand is not None and d.brand.kind == Brand.Kind.OWN
    ]
    # Then each complaint about our brand opened an own-brand case, and no praise did
    complaints = [d for post, d in ours if post["complaint"]]
    praise = [d for post, d in ours if post["kind"] == "praise"]
    assert len(complaints) >= 4 and len(praise) >= 3
    assert {d.triage for d in complaints} == {Detection.Triage.OPENED}
    opened = set(Case.objects.filter(kind=PlaybookKind.OWN_BRAND).values_list("post_id", flat=True))
    assert {d.post_id for d in complaints} <= opened
    assert {d.triage for d in praise} == {Detection.Triage.NOT_COMPLAINT}
    assert not {d.post_id for d in praise} & set(Case.objects.values_list("post_id", flat=True))
