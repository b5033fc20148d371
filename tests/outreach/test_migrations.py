"""Data migrations that change what existing rows mean, run on the real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from monitoring.models import Brand
from tests.outreach.factories import UserFactory

BEFORE = [("outreach", "0004_amend_request")]
AFTER = [("outreach", "0006_drop_incident_refs")]


@pytest.fixture
def executor(transactional_db: None) -> Iterator[MigrationExecutor]:
    """The outreach app migrated back to before incidents were linked; forward again after."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _old_case(apps: Any, brand: Brand, playbook: Any, ref: str) -> Any:
    # Yesterday's post and person (today's models have columns added since).
    person = apps.get_model("monitoring", "Person").objects.create(
        platform="sandbox", external_id=f"u-{ref}", handle=f"h-{ref}"
    )
    post = apps.get_model("monitoring", "Post").objects.create(
        platform="sandbox",
        external_id=f"p-{ref}",
        author_id=person.pk,
        text="telvana is down",
        posted_at=timezone.now(),
    )
    return apps.get_model("outreach", "Case").objects.create(
        post_id=post.pk,
        person_id=post.author_id,
        brand_id=brand.pk,
        platform="sandbox",
        kind="competitor",
        stage="drafting",
        playbook_id=playbook.pk,
        due_at=timezone.now() + dt.timedelta(hours=4),
        incident_ref=ref,
    )


def test_free_incident_references_become_links_and_unknown_ones_are_kept_in_the_summary(
    executor: MigrationExecutor,
) -> None:
    old = executor.loader.project_state(BEFORE).apps
    # Brands and incidents as they were then (later migrations add columns factories write).
    OldBrand = old.get_model("monitoring", "Brand")
    brand = OldBrand.objects.create(name="Telvana", kind="competitor")
    other_brand = OldBrand.objects.create(name="Orbix", kind="competitor")
    # The playbook as it was then (later migrations add columns the factory would write).
    playbook = old.get_model("outreach", "Playbook").objects.create(
        kind="competitor", version=1, name="competitor playbook", guidance="Nothing to sell."
    )
    author = UserFactory(username="analyst-m")
    OldIncident = old.get_model("monitoring", "Incident")
    seen = timezone.now()
    incident = OldIncident.objects.create(
        brand=brand, topic="outage", first_seen_at=seen, last_seen_at=seen
    )
    foreign = OldIncident.objects.create(
        brand=other_brand, topic="outage", first_seen_at=seen, last_seen_at=seen
    )
    Note = old.get_model("outreach", "ResearchNote")
    # triage wrote the incident's id; an analyst typed a free name; one names another brand's
    by_triage = _old_case(old, brand, playbook, str(incident.pk))
    typed = _old_case(old, brand, playbook, "telvana-outage-nov")
    Note.objects.create(
        case_id=typed.pk,
        summary="Outage in the north since 6am.",
        scope="incident",
        incident_ref="telvana-outage-nov",
        author_id=author.pk,
    )
    wrong_brand = _old_case(old, brand, playbook, str(foreign.pk))

    MigrationExecutor(connection).migrate(AFTER)

    new = MigrationExecutor(connection).loader.project_state(AFTER).apps
    Case = new.get_model("outreach", "Case")
    assert Case.objects.get(pk=by_triage.pk).incident_id == incident.pk
    assert Case.objects.get(pk=typed.pk).incident_id is None
    assert Case.objects.get(pk=wrong_brand.pk).incident_id is None
    note = new.get_model("outreach", "ResearchNote").objects.get(case_id=typed.pk)
    assert note.scope == ""
    assert note.incident_id is None
    assert note.summary.startswith("Outage in the north since 6am.")
    assert '"telvana-outage-nov"' in note.summary
