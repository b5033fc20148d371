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
