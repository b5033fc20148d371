"""The sandbox network behaves like a small real one: replies, follows, reactions, threads."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from monitoring import sandbox_server as sandbox_module
from monitoring.models import SandboxNotification, SandboxPost
from monitoring.platforms import NotificationKind, PermanentError, SearchQuery, get_platform
from tests.factories import SandboxPersonaFactory, SandboxPostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def network():
    return get_platform("sandbox", options={"handle": "northwind_care", "reaction_delay": (30, 30)})


def test_posts_are_released_over_time(network):
    SandboxPostFactory(published_at=timezone.now() + dt.timedelta(minutes=10))
    assert network.search(SearchQuery(terms=["telvana"]), "").posts == []
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        assert len(network.search(SearchQuery(terms=["telvana"]), "").posts) == 1


def test_a_post_released_later_is_not_skipped_by_the_cursor(network):
    now = timezone.now()
    SandboxPostFactory(published_at=now - dt.timedelta(minutes=1))
    page = network.search(SearchQuery(terms=["telvana"]), "")
    SandboxPostFactory(published_at=now + dt.timedelta(seconds=30))
    with time_machine.travel(now + dt.timedelta(minutes=1)):
        later = network.search(SearchQuery(terms=["telvana"]), page.cursor)
    assert len(later.posts) == 1


def test_a_reply_with_the_same_idempotency_key_is_posted_once(network):
    post = SandboxPostFactory()
    first = network.reply(in_reply_to=str(post.pk), text="Sorry to hear that", idempotency_key="k1")
    again = network.reply(in_reply_to=str(post.pk), text="Sorry to hear that", idempotency_key="k1")
    assert first == again
    assert SandboxPost.objects.filter(author_handle="northwind_care").count() == 1


def test_find_reply_finds_our_earlier_reply(network):
    post = SandboxPostFactory()
    assert network.find_reply(in_reply_to=str(post.pk), idempotency_key="k") is None
    sent = network.reply(in_reply_to=str(post.pk), text="That sounds rough", idempotency_key="k")
    assert network.find_reply(in_reply_to=str(post.pk), idempotency_key="other") == sent
    # a later reply of ours under the same post, sought while the first is recorded
    later = network.reply(in_reply_to=str(post.pk), text="Glad it is sorted", idempotency_key="k2")
    assert (
        network.find_reply(
            in_reply_to=str(post.pk), idempotency_key="k2", exclude=[sent.external_id]
        )
        == later
    )


def test_a_reply_over_the_length_limit_is_refused(network):
    post = SandboxPostFactory()
    with pytest.raises(PermanentError, match="longer than 500"):
        network.reply(in_reply_to=str(post.pk), text="x" * 501, idempotency_key="k")


def test_a_reply_to_a_missing_post_is_a_permanent_error(network):
    with pytest.raises(PermanentError, match="does not exist"):
        network.reply(in_reply_to="999999", text="hello", idempotency_key="k")


def test_a_friendly_person_answers_after_a_delay(network):
    persona = SandboxPersonaFactory(persona="friendly")
    post = SandboxPostFactory(author_handle=persona.handle, author_id_text=persona.external_id)
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        sent = network.reply(in_reply_to=str(post.pk), text="So sorry", idempotency_key="k")
        assert network.notifications("").notifications == []
    with time_machine.travel(now + dt.timedelta(seconds=31), tick=False):
        page = network.notifications("")
    kinds = [n.kind for n in page.notifications]
    assert kinds == [NotificationKind.FAVOURITE, NotificationKind.REPLY]
    reply = page.notifications[1]
    assert reply.subject_id == sent.external_id
    assert reply.person.external_id == persona.external_id
    assert reply.post is not None and reply.post.in_reply_to == sent.external_id
    # The cursor moves past what was read.
    with time_machine.travel(now + dt.timedelta(seconds=40), tick=False):
        assert network.notifications(page.cursor).notifications == []


@pytest.mark.parametrize(
    ("persona", "kinds"),
    [
        ("silent", []),
        ("liker", [NotificationKind.FAVOURITE]),
        ("hostile", [NotificationKind.REPLY]),
        ("blocker", [NotificationKind.BLOCK]),
        ("follower", ["favourite", "reply", "follow"]),
        ("customer", [NotificationKind.REPLY]),
    ],
)
def test_each_persona_reacts_in_its_own_way(network, persona, kinds):
    person = SandboxPersonaFactory(persona=persona)
    post = SandboxPostFactory(author_handle=person.handle, author_id_text=person.external_id)
    network.reply(in_reply_to=str(post.pk), text="Sorry about that", idempotency_key="k")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        assert [n.kind for n in network.notifications("").notifications] == kinds


def test_a_customer_answers_each_of_our_replies_from_help_to_fixed_to_amended(network):
    pools = sandbox_module.load_corpus()["responses"]
    person = SandboxPersonaFactory(persona="customer")
    post = SandboxPostFactory(author_handle=person.handle, author_id_text=person.external_id)
    parent, answers = post, []
    for step in range(3):
        network.reply(in_reply_to=str(parent.pk), text=f"reply {step}", idempotency_key=f"k{step}")
        parent = SandboxPost.objects.filter(author_handle=person.handle).latest("pk")
        answers.append(parent.text.split(" ", 1)[1])
    assert answers[0] in pools["customer_help"]
    assert answers[1] in pools["customer_fixed"]
    assert answers[2] in pools["customer_amended"]


def test_notifications_of_another_account_are_not_shown(network):
    other = get_platform("sandbox", options={"handle": "someone_else"})
    person = SandboxPersonaFactory(persona="liker")
    post = SandboxPostFactory(author_handle=person.handle)
    other.reply(in_reply_to=str(post.pk), text="hi", idempotency_key="k")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        assert network.notifications("").notifications == []
    assert SandboxNotification.objects.count() == 1


def test_our_own_replies_do_not_come_back_as_posts_to_answer(network):
    post = SandboxPostFactory()
    network.reply(in_reply_to=str(post.pk), text="Sorry telvana let you down", idempotency_key="k")
    page = network.search(SearchQuery(terms=["telvana"]), "")
    assert [p.external_id for p in page.posts] == [str(post.pk)]


def test_the_thread_holds_the_root_and_every_reply(network):
    root = SandboxPostFactory()
    child = SandboxPostFactory(reply_to=root, text="same here")
    grandchild = SandboxPostFactory(reply_to=child, text="me too")
    thread = network.thread(str(child.pk))
    assert [p.external_id for p in thread] == [str(root.pk), str(child.pk), str(grandchild.pk)]


def test_follow_is_recorded_once(network):
    first = network.follow("u-1")
    assert network.follow("u-1") == first


def test_a_cursor_we_did_not_write_is_a_permanent_error(network):
    with pytest.raises(PermanentError, match="cursor"):
        network.search(SearchQuery(terms=["x"]), "not-a-cursor")


def test_seeding_the_corpus_is_idempotent():
    added = sandbox_module.seed(timezone.now())
    assert added >= 300
    assert sandbox_module.seed(timezone.now()) == 0
    assert SandboxPost.objects.count() == added
