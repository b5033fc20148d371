"""Typed adapter options: parsed once, checked when a source is saved in the admin."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from monitoring.models import Source
from monitoring.platforms import OptionsError, check_options, get_platform
from monitoring.platforms.mastodon import MastodonOptions
from monitoring.platforms.reddit import RedditOptions
from monitoring.platforms.x import XOptions
from tests.factories import SourceFactory


def test_known_options_are_typed_and_unknown_ones_left_alone() -> None:
    opts = MastodonOptions.parse(
        {"page_size": "20", "timeout": "2.5", "mention_author": "false", "lang": "en"}
    )
    assert (opts.page_size, opts.timeout, opts.mention_author) == (20, 2.5, False)


def test_blank_options_take_their_defaults() -> None:
    opts = XOptions.parse({"page_size": "", "reply_access": None})
    assert (opts.page_size, opts.reply_access, opts.timeout) == (100, "mentioned_or_quoted", 10.0)


@pytest.mark.parametrize(
    ("cls", "raw", "named"),
    [
        (MastodonOptions, {"page_size": "many"}, "page_size"),
        (MastodonOptions, {"mode": "firehose"}, "mode"),
        (MastodonOptions, {"api_base_url": "mastodon.social"}, "api_base_url"),
        (MastodonOptions, {"mention_author": "perhaps"}, "mention_author"),
        (XOptions, {"reply_access": "everyone"}, "reply_access"),
        (XOptions, {"timeout": 0}, "timeout"),
        (RedditOptions, {"subreddit": "r/no spaces"}, "subreddit"),
    ],
)
def test_a_bad_option_is_an_options_error_naming_it(cls: type, raw: dict, named: str) -> None:
    with pytest.raises(OptionsError, match=named):
        cls.parse(raw)


def test_a_bad_option_fails_when_the_adapter_is_built_not_mid_poll() -> None:
    with pytest.raises(OptionsError, match="page_size"):
        get_platform("bluesky", options={"page_size": "lots"})


def test_a_source_without_a_required_option_is_refused() -> None:
    with pytest.raises(OptionsError, match="feed_url"):
        check_options("rss", {})
    check_options("rss", {"feed_url": "https://example.com/feed.xml"})


def _source_form_data(staff, source: Source, options: str) -> tuple[str, dict]:
    url = reverse("admin:monitoring_source_change", args=[source.pk])
    form = staff.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        terms='["telvana"]',
        exclusions="[]",
        options=options,
        credentials="",
        next_poll_at_0="2026-11-23",
        next_poll_at_1="12:00:00",
        account="",
        brand="",
        language="",
    )
    data.pop("next_poll_at", None)
    return url, data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("saved", "status", "stored"),
    [
        # a feed URL that is not http(s): the form comes back with the reason, nothing stored
        ("feed.xml", 200, "https://example.com/a.xml"),
        ("https://example.com/b.xml", 302, "https://example.com/b.xml"),
    ],
)
def test_the_admin_checks_a_sources_options_when_it_is_saved(
    admin_client, saved: str, status: int, stored: str
) -> None:
    source = SourceFactory(platform="rss", options={"feed_url": "https://example.com/a.xml"})
    url, data = _source_form_data(admin_client, source, json.dumps({"feed_url": saved}))
    response = admin_client.post(url, data)
    assert response.status_code == status
    if status == 200:
        assert "feed_url" in str(response.context["adminform"].form.errors["options"])
    source.refresh_from_db()
    assert source.options == {"feed_url": stored}
