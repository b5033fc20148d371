"""factory_boy factories for the monitoring models (outreach ones: tests/outreach/factories.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone

from monitoring.models import (
    Account,
    Brand,
    Detection,
    Incident,
    Person,
    Post,
    SandboxPersona,
    SandboxPost,
    Source,
)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        django_get_or_create = ("platform", "handle")

    platform = "sandbox"
    handle = "northwind_care"
    max_sends_per_hour = 30


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Brand{n}")
    kind = Brand.Kind.COMPETITOR


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"source {n}")
    platform = "sandbox"
    terms = factory.LazyFunction(lambda: ["telvana"])
    cadence_seconds = 60
    next_poll_at = factory.LazyFunction(timezone.now)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    platform = "sandbox"
    external_id = factory.Sequence(lambda n: f"u-{n}")
    handle = factory.Sequence(lambda n: f"person{n}")


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    platform = "sandbox"
    external_id = factory.Sequence(lambda n: f"p-{n}")
    author = factory.SubFactory(PersonFactory)
    text = "telvana dropped my connection again"
    posted_at = factory.LazyFunction(timezone.now)


class SandboxPersonaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SandboxPersona

    external_id = factory.Sequence(lambda n: f"u-{n}")
    handle = factory.Sequence(lambda n: f"persona{n}")
    persona = "friendly"


class SandboxPostFactory(factory.django.DjangoModelFactory):
    """A post on the simulated network, released a minute ago unless told otherwise."""

    class Meta:
        model = SandboxPost

    author_id_text = factory.Sequence(lambda n: f"u-{n}")
    author_handle = factory.Sequence(lambda n: f"someone{n}")
    text = "@telvana my internet has been down since this morning"
    lang = "en"
    published_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=1))


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    brand = factory.SubFactory(BrandFactory)
    topic = "outage"
    state = Incident.State.ACTIVE
    first_seen_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=2))
    last_seen_at = factory.LazyFunction(timezone.now)


class DetectionFactory(factory.django.DjangoModelFactory):
    """A complaint verdict on a post (pass ``brand`` and, for incidents, ``incident``)."""

    class Meta:
        model = Detection

    post = factory.SubFactory(PostFactory)
    posted_at = factory.LazyAttribute(lambda d: d.post.posted_at)
    complaint = True
    score = 0.9
    topic = "outage"
    model_version = "test"


def old_post(apps: Any, platform: str = "sandbox") -> Any:
    """A post written with the historical models of a migration test (``apps``): today's
    Post may have columns that the tables did not have then."""
    n = apps.get_model("monitoring", "Post").objects.count()
    author = apps.get_model("monitoring", "Person").objects.create(
        platform=platform, external_id=f"old-{n}", handle=f"old_{n}"
    )
    return apps.get_model("monitoring", "Post").objects.create(
        platform=platform,
        external_id=f"old-{n}",
        author_id=author.pk,
        text="telvana is down again",
        posted_at=timezone.now(),
    )
