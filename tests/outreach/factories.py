"""factory_boy factories for the outreach models (monitoring ones: tests/factories.py)."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from monitoring.models import Post
from outreach.models import Case, Playbook, PlaybookKind, Stage
from tests.factories import (
    AccountFactory,
    BrandFactory,
    PersonFactory,
    PostFactory,
    SandboxPersonaFactory,
    SandboxPostFactory,
)

COMPLAINT = "Telvana dropped my connection again, third time this week and support never answers"
GOOD_REPLY = (
    "That sounds really frustrating, losing your connection three times in one week. "
    "I hope support gets back to you soon and it is fixed for good."
)
SUMMARY = (
    "Connection drops three times this week, support silent; one person, no wider outage seen."
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def groups(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            # get(), not filter(): a missing group must fail the test, not pass silently.
            self.groups.add(*(Group.objects.get(name=name) for name in extracted))
        if create:
            self.save()


class PlaybookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Playbook

    kind = PlaybookKind.COMPETITOR
    name = factory.LazyAttribute(lambda o: f"{o.kind} playbook")
    guidance = "Acknowledge the problem as one human to another. Nothing to sell."
    version = factory.Sequence(lambda n: n + 1)
    four_eyes = True


class CaseFactory(factory.django.DjangoModelFactory):
    """A new case built directly (tests of constraints); workflow tests use open_case."""

    class Meta:
        model = Case

    post = factory.SubFactory(PostFactory, text=COMPLAINT)
    person = factory.SelfAttribute("post.author")
    brand = factory.SubFactory(BrandFactory, name="Telvana")
    platform = "sandbox"
    kind = PlaybookKind.COMPETITOR
    stage = Stage.NEW
    playbook = factory.LazyFunction(
        lambda: (
            Playbook.objects.filter(kind=PlaybookKind.COMPETITOR, is_active=True).first()
            or PlaybookFactory()
        )
    )
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=24))


__all__ = [
    "COMPLAINT",
    "GOOD_REPLY",
    "SUMMARY",
    "AccountFactory",
    "BrandFactory",
    "CaseFactory",
    "PersonFactory",
    "PlaybookFactory",
    "PostFactory",
    "UserFactory",
]


def sandbox_post(persona: str = "silent", hours_old: float = 1, text: str = COMPLAINT) -> Post:
    """A complaint that exists on the sandbox network and in our Post table."""
    who = SandboxPersonaFactory(persona=persona)
    posted = timezone.now() - dt.timedelta(hours=hours_old)
    remote = SandboxPostFactory(
        author_id_text=who.external_id,
        author_handle=who.handle,
        text=text,
        published_at=posted,
    )
    person = PersonFactory(external_id=who.external_id, handle=who.handle)
    return PostFactory(external_id=str(remote.pk), author=person, text=text, posted_at=posted)
