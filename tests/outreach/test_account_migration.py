"""Account moves from outreach to monitoring without losing a row, a link or a permission.

Run on the real PostgreSQL, forwards and backwards, from data written with the
old models.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.outreach.factories import UserFactory

BEFORE = [("monitoring", "0003_source_account"), ("outreach", "0006_drop_incident_refs")]
AFTER = [("monitoring", "0005_account_table"), ("outreach", "0007_account_moved")]
ACCOUNT_PERMS = {"add_account", "change_account", "delete_account", "view_account"}


@pytest.fixture
def executor(transactional_db: None, roles: None) -> Iterator[MigrationExecutor]:
    """Both apps migrated back to before the move; forward to the newest again after."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate to ``targets``; the historical models of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def _tables() -> set[str]:
    return {t for t in connection.introspection.table_names() if t.endswith("_account")}


def _account_perms(apps: Any, group: str) -> set[str]:
    Group = apps.get_model("auth", "Group")
    perms = Group.objects.get(name=group).permissions.filter(codename__endswith="_account")
    return {f"{p.content_type.app_label}.{p.codename}" for p in perms}


def _old_rows(old: Any) -> dict[str, int]:
    """An account with stored credentials, a source searching as it, a follow sent from it."""
    account = old.get_model("outreach", "Account").objects.create(
        platform="mastodon",
        handle="nw@social.example",
        credentials_encrypted="token-as-stored",
        notifications_cursor="42",
    )
    # Yesterday's source, person and post (today's models have columns added since).
    source = old.get_model("monitoring", "Source").objects.create(
        name="mastodon search",
        platform="mastodon",
        terms=["telvana"],
        cadence_seconds=60,
        next_poll_at=timezone.now(),
        account_id=account.pk,
    )
    person = old.get_model("monitoring", "Person").objects.create(
        platform="mastodon", external_id="u-moved", handle="moved"
    )
    post = old.get_model("monitoring", "Post").objects.create(
        platform="mastodon",
        external_id="p-moved",
        author_id=person.pk,
        text="telvana dropped my connection again",
        posted_at=timezone.now(),
    )
    case = old.get_model("outreach", "Case").objects.create(
        post_id=post.pk,
        person_id=post.author_id,
        brand_id=old.get_model("monitoring", "Brand")
        .objects.create(name="Telvana", kind="competitor")
        .pk,
        platform="mastodon",
        kind="competitor",
        stage="engaged",
        # The playbook as it was then (later migrations add columns the factory would write).
        playbook_id=old.get_model("outreach", "Playbook")
        .objects.create(kind="competitor", version=1, name="competitor playbook")
        .pk,
        due_at=timezone.now(),
    )
    action = old.get_model("outreach", "OutboundAction").objects.create(
        case_id=case.pk,
        kind="follow",
        account_id=account.pk,
        idempotency_key="follow-1",
        not_before=timezone.now(),
    )
    return {"account": account.pk, "source": source.pk, "action": action.pk}


def test_moving_accounts_keeps_rows_links_and_the_groups_permissions_both_ways(
    executor: MigrationExecutor,
) -> None:
    old = executor.loader.project_state(BEFORE).apps
    ids = _old_rows(old)
    content_type_id = (
        old.get_model("contenttypes", "ContentType")
        .objects.get(app_label="outreach", model="account")
        .pk
    )
    assert _account_perms(old, "Reviewer") == {"outreach.view_account"}
    assert _tables() == {"outreach_account"}

    new = _migrate(AFTER)

    assert _tables() == {"monitoring_account"}
    account = new.get_model("monitoring", "Account").objects.get(pk=ids["account"])
    assert (account.handle, account.credentials_encrypted, account.notifications_cursor) == (
        "nw@social.example",
        "token-as-stored",
        "42",
    )
    assert new.get_model("monitoring", "Source").objects.get(pk=ids["source"]).account_id == (
        account.pk
    )
    action = new.get_model("outreach", "OutboundAction").objects.get(pk=ids["action"])
    assert action.account_id == account.pk
    # The same content type row, relabelled: the groups and the admin's history keep it.
    moved = ContentType.objects.get(app_label="monitoring", model="account")
    assert moved.pk == content_type_id
    assert not ContentType.objects.filter(app_label="outreach", model="account").exists()
    assert _account_perms(new, "Reviewer") == {"monitoring.view_account"}
    assert _account_perms(new, "Admin") == {f"monitoring.{p}" for p in ACCOUNT_PERMS}
    reviewer = UserFactory(username="reviewer-m", groups=["Reviewer"])
    reviewer = get_user_model().objects.get(pk=reviewer.pk)  # no cached permissions
    assert reviewer.has_perm("monitoring.view_account")
    assert not reviewer.has_perm("monitoring.change_account")

    back = _migrate(BEFORE)

    assert _tables() == {"outreach_account"}
    assert back.get_model("outreach", "Account").objects.get(pk=ids["account"]).handle == (
        "nw@social.example"
    )
    assert (
        back.get_model("outreach", "OutboundAction").objects.get(pk=ids["action"]).account_id
        == (ids["account"])
    )
    assert (
        back.get_model("monitoring", "Source").objects.get(pk=ids["source"]).account_id
        == (ids["account"])
    )
    assert _account_perms(back, "Reviewer") == {"outreach.view_account"}
    assert _account_perms(back, "Admin") == {f"outreach.{p}" for p in ACCOUNT_PERMS}


def test_a_content_type_made_for_the_new_place_in_between_is_folded_into_the_old_one(
    executor: MigrationExecutor,
) -> None:
    old = executor.loader.project_state(BEFORE).apps
    ContentType_ = old.get_model("contenttypes", "ContentType")
    Permission = old.get_model("auth", "Permission")
    kept = ContentType_.objects.get(app_label="outreach", model="account")
    # What post_migrate leaves after a partial migrate: monitoring's own account
    # permissions, one of them already granted to someone.
    stray = ContentType_.objects.create(app_label="monitoring", model="account")
    stray_perms = [
        Permission.objects.create(content_type=stray, codename=c, name=c) for c in ACCOUNT_PERMS
    ]
    owner = UserFactory(username="ops")
    get_user_model().objects.get(pk=owner.pk).user_permissions.add(
        next(p.pk for p in stray_perms if p.codename == "change_account")
    )

    new = _migrate(AFTER)

    assert list(ContentType.objects.filter(model="account").values_list("pk", "app_label")) == [
        (kept.pk, "monitoring")
    ]
    assert _account_perms(new, "Admin") == {f"monitoring.{p}" for p in ACCOUNT_PERMS}
    assert get_user_model().objects.get(pk=owner.pk).has_perm("monitoring.change_account")
