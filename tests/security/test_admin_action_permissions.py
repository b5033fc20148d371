"""Attack 6: an analyst with view-only access to sources ran admin actions by POSTing them.

Every action of every registered ModelAdmin is checked for each demo role
against the table below: a role may run an action when it can reach the
model's list page and the admin offers it the action. A new action without a
row here fails the test, so its permissions are decided, not inherited.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Source
from tests.factories import SourceFactory
from tests.outreach.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLES = ("Analyst", "Reviewer", "Admin")
EVERYONE = frozenset(ROLES)
ADMIN_ONLY = frozenset({"Admin"})

# (app_label.model, action) -> the roles that may run it.
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("monitoring.source", "poll_now"): ADMIN_ONLY,
    ("monitoring.source", "enable_sources"): ADMIN_ONLY,
    ("monitoring.source", "test_connection"): ADMIN_ONLY,
    ("monitoring.account", "test_connection"): ADMIN_ONLY,
    ("monitoring.detection", "mark_complaint"): EVERYONE,
    ("monitoring.detection", "mark_not_complaint"): EVERYONE,
    ("monitoring.detection", "mark_wrong_brand"): EVERYONE,
    ("monitoring.classifierversion", "activate"): ADMIN_ONLY,
    ("outreach.case", "assign_to_me"): EVERYONE,
    ("outreach.case", "dismiss_selected"): EVERYONE,
    # Taking someone off the do-not-contact list: admins only, with a reason (rule 6).
    ("outreach.donotcontact", "remove_selected"): ADMIN_ONLY,
    # Beat schedules and the login lock-out records belong to the Admin group (or nobody).
    ("django_celery_beat.periodictask", "enable_tasks"): ADMIN_ONLY,
    ("django_celery_beat.periodictask", "disable_tasks"): ADMIN_ONLY,
    ("django_celery_beat.periodictask", "toggle_tasks"): ADMIN_ONLY,
    ("django_celery_beat.periodictask", "run_tasks"): ADMIN_ONLY,
    ("axes.accessattempt", "cleanup_expired_attempts"): frozenset(),
}
# Deleting in bulk is the Admin group's alone, wherever the admin offers it at all.
DELETE = "delete_selected"


def may_run(model_admin: Any, user: Any) -> set[str]:
    """The actions ``user`` can run on this admin's list page."""
    request = RequestFactory().get("/admin/")
    request.user = user
    if not model_admin.has_view_or_change_permission(request):
        return set()  # the list page (where actions are POSTed) answers 403
    return set(model_admin.get_actions(request))


@pytest.fixture
def users(roles: None) -> dict[str, Any]:
    return {role: UserFactory(username=role.lower(), groups=[role]) for role in ROLES}


def test_admin_actions_each_role_may_run_match_the_table(users: dict[str, Any]) -> None:
    seen: dict[tuple[str, str], set[str]] = {}
    for model, model_admin in admin.site._registry.items():
        name = f"{model._meta.app_label}.{model._meta.model_name}"
        for role, user in users.items():
            for action in may_run(model_admin, user):
                seen.setdefault((name, action), set()).add(role)
        for action in model_admin.actions or []:
            key = (name, action if isinstance(action, str) else action.__name__)
            seen.setdefault(key, set())
    deletes = {key: roles for key, roles in seen.items() if key[1] == DELETE}
    assert {key: roles for key, roles in deletes.items() if roles - ADMIN_ONLY} == {}
    custom = {key: frozenset(roles) for key, roles in seen.items() if key[1] != DELETE}
    assert custom == EXPECTED


def test_admin_action_an_analyst_posts_does_not_run(client: Any, users: dict[str, Any]) -> None:
    source = SourceFactory(enabled=False, disabled_reason="disabled by an admin: abuse")
    client.force_login(users["Analyst"])
    for action in ("enable_sources", "poll_now", "test_connection"):
        response = client.post(
            reverse("admin:monitoring_source_changelist"),
            {"action": action, "_selected_action": [source.pk]},
            follow=True,
        )
        assert response.status_code == 200  # the list page, the action not run
    source.refresh_from_db()
    assert not source.enabled
    assert source.disabled_reason == "disabled by an admin: abuse"
    assert source.last_polled_at is None


def test_admin_action_an_admin_posts_still_runs(client: Any, users: dict[str, Any]) -> None:
    source = SourceFactory(enabled=False, disabled_reason="off", next_poll_at=timezone.now())
    client.force_login(users["Admin"])
    client.post(
        reverse("admin:monitoring_source_changelist"),
        {"action": "enable_sources", "_selected_action": [source.pk]},
    )
    assert Source.objects.get(pk=source.pk).enabled
