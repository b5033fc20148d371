"""Issue #18's migrations: existing accounts are not personal, existing playbooks get the
default disclosure wording, and reviewers may read the overrules."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("monitoring", "0016_team_labels"), ("outreach", "0019_outbox_scale_indexes")]
AFTER = [("monitoring", "0018_account_personal_account"), ("outreach", "0023_disclosure_overrules")]


@pytest.mark.django_db(transaction=True)
def test_old_accounts_are_not_personal_and_old_playbooks_get_the_default_wording() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    account = old.get_model("monitoring", "Account").objects.create(
        platform="sandbox", handle="old_care"
    )
    playbook = old.get_model("outreach", "Playbook").objects.create(
        kind="competitor", name="old", guidance="be kind"
    )
    old.get_model("auth", "Group").objects.get_or_create(name="Reviewer")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    assert (
        new.get_model("monitoring", "Account").objects.get(pk=account.pk).personal_account is False
    )
    assert (
        new.get_model("outreach", "Playbook").objects.get(pk=playbook.pk).disclosure
        == "I work at {brand}"
    )
    reviewer = new.get_model("auth", "Group").objects.get(name="Reviewer")
    assert reviewer.permissions.filter(codename="view_findingoverrule").exists()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
