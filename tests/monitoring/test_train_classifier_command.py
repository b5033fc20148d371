"""train_classifier: shipped examples plus the team's labels (corrections among them), stored
inactive. More in test_versions.py."""

from io import StringIO

import pytest
from django.core.management import call_command

from monitoring import classifier, triage
from monitoring.label_files import text_key
from monitoring.models import ClassifierVersion, Label
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def run() -> str:
    out = StringIO()
    call_command("train_classifier", stdout=out)
    return out.getvalue()


def test_training_stores_an_inactive_version_that_learned_the_corrections():
    post = PostFactory(text="the new parcel lockers are painted a lovely shade of teal")
    Label.objects.create(
        text=post.text,
        text_key=text_key(post.text),
        complaint=False,
        source=Label.Source.CORRECTION,
        post=post,
    )
    output = run()
    version = ClassifierVersion.objects.get()
    assert not version.active
    assert version.corrections == 1
    assert version.examples == len(classifier.shipped_examples()) + 1
    assert version.version != classifier.load_default().version
    assert 0 < version.metrics["heldout_macro_f1"] <= 1
    assert "held-back rows, macro-F1" in output and "inactive" in output
    # The stored blob is a working model.
    model = classifier.TrainedModel.from_bytes(bytes(version.blob))
    assert model.version == version.version
    assert len(model.predict(["my internet is down again"])) == 1


def test_training_twice_on_the_same_data_stores_one_version():
    run()
    assert "stored already" in run()
    assert ClassifierVersion.objects.count() == 1


def test_triage_uses_the_version_an_admin_activated():
    run()
    version = ClassifierVersion.objects.get()
    assert triage.active_model().version == classifier.load_default().version
    ClassifierVersion.objects.filter(pk=version.pk).update(active=True)
    assert triage.active_model().version == version.version
