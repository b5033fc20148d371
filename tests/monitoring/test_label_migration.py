"""Migration 0016: the corrections reviewers made before team labels existed become labels
(the latest correction of a text wins; "wrong brand" and erased posts give none)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from monitoring.label_files import text_key
from tests.factories import old_post

BEFORE = [("monitoring", "0015_detection_queue")]
AFTER = [("monitoring", "0016_team_labels")]


@pytest.fixture
def executor(transactional_db: None) -> Iterator[MigrationExecutor]:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_earlier_corrections_become_team_labels(executor: MigrationExecutor) -> None:
    old = executor.loader.project_state(BEFORE).apps
    Detection = old.get_model("monitoring", "Detection")
    brand = old.get_model("monitoring", "Brand").objects.create(name="Telvana", kind="competitor")
    reviewer = get_user_model().objects.create_user("rev")
    now = timezone.now()

    def corrected(text: str, correction: str, minutes_ago: int) -> object:
        post = old_post(old)
        old.get_model("monitoring", "Post").objects.filter(pk=post.pk).update(text=text)
        return Detection.objects.create(
            post_id=post.pk,
            brand_id=brand.pk,
            posted_at=now,
            complaint=False,
            score=0.4,
            model_version="old",
            correction=correction,
            corrected_by_id=reviewer.pk,
            corrected_at=now - dt.timedelta(minutes=minutes_ago),
        )

    first = corrected("Wifi down again", "not_complaint", 10)
    latest = corrected("wifi  down again", "complaint", 5)  # the same text, later
    corrected("the bill is wrong", "wrong_brand", 3)
    corrected("", "complaint", 2)  # an erased post's empty row
    plain = corrected("all good", "", 1)
    assert first and plain

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    labels = list(new.get_model("monitoring", "Label").objects.all())
    assert len(labels) == 1
    label = labels[0]
    assert (label.text, label.complaint, label.source) == ("wifi  down again", True, "correction")
    assert (label.post_id, label.brand_id, label.labelled_by_id) == (
        latest.post_id,  # type: ignore[attr-defined]
        brand.pk,
        reviewer.pk,
    )
    assert label.text_key == text_key("Wifi down again")  # the app's key, the same hash
    assert label.labelled_at == latest.corrected_at  # type: ignore[attr-defined]
