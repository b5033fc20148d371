"""Attack 7: a hostile feed item's ``javascript:`` URL became the case page's platform link.

Every URL that came from a platform is a link only when it is http(s), judged
the way a browser reads the scheme; anything else is shown as text.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.display import is_web_url, platform_link
from monitoring.models import Post
from monitoring.platforms.base import Sent
from monitoring.platforms.sandbox import SandboxPlatform
from outreach import dispatch, workflow
from outreach.models import OutboundAction, PlaybookKind, Stage
from tests.factories import PersonFactory, PostFactory
from tests.outreach.factories import sandbox_post

HOSTILE_URLS = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "DATA:text/html;base64,PHNjcmlwdD4=",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/",
    "/admin/auth/user/",
    "https:alert(1)",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_unsafe_links_are_shown_as_text_not_links(url: str) -> None:
    assert not is_web_url(url)
    html = str(platform_link(url, "open on the platform"))
    assert "<a " not in html and "href" not in html
    assert "<script>" not in html


@pytest.mark.parametrize(
    "url", ["https://mastodon.social/@a/1", "HTTP://example.org/x", " https://example.org/"]
)
def test_unsafe_links_web_urls_stay_links(url: str) -> None:
    html = str(platform_link(url, "open"))
    assert html.startswith('<a href="') and 'rel="noopener noreferrer nofollow"' in html


def test_unsafe_links_a_quote_in_a_web_url_cannot_break_out_of_the_attribute() -> None:
    html = str(platform_link('https://example.org/"onmouseover="alert(1)', "open"))
    assert '"onmouseover=' not in html and "&quot;onmouseover=&quot;" in html


@pytest.mark.django_db
def test_unsafe_links_the_case_page_shows_a_javascript_post_url_as_text(
    admin_client: Any, competitor: Any, playbook: Any
) -> None:
    post = PostFactory(text="telvana is down again")
    # As a hostile feed item stores it (URLField validation is the form's, not the ORM's).
    Post.objects.filter(pk=post.pk).update(url="javascript:alert(document.cookie)")
    case = workflow.open_case(post.pk, competitor.pk, PlaybookKind.COMPETITOR)
    body = admin_client.get(reverse("admin:outreach_case_change", args=[case.pk])).content.decode()
    assert 'href="javascript:' not in body
    assert "javascript:alert(document.cookie)" in body  # shown, as text


@pytest.mark.django_db
def test_unsafe_links_post_and_person_pages_show_platform_urls_as_text(admin_client: Any) -> None:
    person = PersonFactory()
    post = PostFactory(author=person)
    Post.objects.filter(pk=post.pk).update(url="javascript:alert(1)")
    type(person).objects.filter(pk=person.pk).update(profile_url="data:text/html,x")
    for url in (
        reverse("admin:monitoring_post_change", args=[post.pk]),
        reverse("admin:monitoring_person_change", args=[person.pk]),
    ):
        body = admin_client.get(url).content.decode()
        assert 'href="javascript:' not in body and 'href="data:' not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("javascript:alert(document.cookie)", False),
        ("ftp://files.example/x", False),
        ("https://social.example/@us/1", True),
    ],
)
def test_unsafe_links_the_outbox_page_shows_the_platform_url_only_as_a_checked_link(
    admin_client: Any, advance: Any, monkeypatch: pytest.MonkeyPatch, url: str, linked: bool
) -> None:
    # The URL of our own reply is what the platform answered: outside input like the rest.
    case = advance(Stage.APPROVED, post=sandbox_post())
    action = OutboundAction.objects.get(case=case, kind="reply")
    OutboundAction.objects.filter(pk=action.pk).update(not_before=timezone.now())
    monkeypatch.setattr(
        SandboxPlatform, "reply", lambda self, **kw: Sent(external_id="s1", url=url)
    )
    assert dispatch.send_action(action.pk).result == "sent"
    page = reverse("admin:outreach_outboundaction_change", args=[action.pk])
    body = admin_client.get(page).content.decode()
    assert url in body  # shown, escaped where it needs to be
    anchors = [a for a in body.split("<a ")[1:] if a.startswith(f'href="{url}"')]
    if linked:
        assert anchors and all('rel="noopener noreferrer nofollow"' in a for a in anchors)
    else:
        assert not anchors
