"""Shared text and header normalisation: HTML to text, lengths, rate limits, Retry-After."""

from __future__ import annotations

import datetime as dt

import pytest

from monitoring.platforms import text
from monitoring.platforms.base import RateLimit
from tests.monitoring.platforms import recorded

NOW = dt.datetime(2026, 8, 1, 13, 0, tzinfo=dt.UTC)


# --- html_to_text ------------------------------------------------------------------------


def test_recorded_mastodon_status_html_becomes_plain_text() -> None:
    # given a real status as Mastodon renders it
    status = recorded.body("mastodon", "status_reply")
    # when
    plain = text.html_to_text(status["content"])
    # then no tag is left and the words are
    assert "<" not in plain and ">" not in plain
    assert plain


def test_mention_and_shortened_link_are_kept_as_text() -> None:
    html = (
        '<p>Hi <span class="h-card"><a href="https://m.example/@bob" class="u-url mention">'
        "@<span>bob</span></a></span> see "
        '<a href="https://example.com/a/very/long"><span class="invisible">https://</span>'
        '<span class="ellipsis">example.com/a/ve</span><span class="invisible">ry/long</span></a>'
        "</p>"
    )
    assert text.html_to_text(html) == "Hi @bob see https://example.com/a/very/long"


def test_link_with_other_text_keeps_its_destination() -> None:
    assert text.html_to_text('<a href="https://shop.example/x">here</a>') == (
        "here (https://shop.example/x)"
    )


def test_hashtag_link_keeps_only_the_tag() -> None:
    html = '<a href="https://m.example/tags/acme" class="mention hashtag">#<span>acme</span></a>'
    assert text.html_to_text(html) == "#acme"


def test_entities_are_decoded_once() -> None:
    assert text.html_to_text("<p>Tom &amp; Jerry &lt;3 &#x1F600; &amp;amp;</p>") == (
        "Tom & Jerry <3 \U0001f600 &amp;"
    )


def test_paragraphs_and_line_breaks_become_newlines() -> None:
    assert text.html_to_text("<p>one<br>two</p><p>three</p>") == "one\ntwo\n\nthree"


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert('x')</script>visible",
        "<style>p{color:red}</style>visible",
        "<p>visible<script>document.cookie</script></p>",
        '<img src=x onerror="alert(1)">visible',
        '<a href="javascript:alert(1)">visible</a>',
        "<!-- hidden comment -->visible",
        "<div><p><b>visible",  # unclosed tags
        "<template><p>hidden</p></template>visible",
    ],
)
def test_hostile_html_leaves_only_visible_text(hostile: str) -> None:
    assert text.html_to_text(hostile) == "visible"


@pytest.mark.parametrize("empty", ["", None, "<p></p>", "   ", "<br><br>"])
def test_empty_html_is_empty_text(empty: str | None) -> None:
    assert text.html_to_text(empty) == ""


def test_control_and_bidi_override_characters_are_removed() -> None:
    assert text.html_to_text("a\x00b\u202ec\x07d") == "abcd"


def test_huge_html_is_converted_without_losing_words() -> None:
    html = "<p>word &amp; more</p>" * 20_000
    plain = text.html_to_text(html)
    assert plain.count("word & more") == 20_000


def test_plain_text_with_angle_brackets_survives() -> None:
    assert text.html_to_text("a < b and c > d") == "a < b and c > d"


def test_unescape_text_decodes_x_entities() -> None:
    assert text.unescape_text("Q&amp;A &lt;tag&gt;  \n\n\n\nend") == "Q&A <tag>\n\nend"


# --- text_length ---------------------------------------------------------------------------


def test_graphemes_count_a_family_emoji_as_one() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert text.text_length(family, "graphemes") == 1
    assert text.text_length(family, "characters") == 5


def test_x_weighting_counts_cjk_and_emoji_double_and_urls_as_23() -> None:
    sample = "hi \U0001f600 日本 https://example.com/a-very-long-path-indeed"
    assert text.text_length(sample, "weighted", url_length=23) == 3 + 2 + 1 + 4 + 1 + 23


def test_mastodon_counts_each_url_as_reserved_length() -> None:
    sample = "see https://example.com/" + "x" * 200
    assert text.text_length(sample, "characters", url_length=23) == len("see ") + 23


def test_unknown_length_unit_is_refused() -> None:
    with pytest.raises(ValueError):
        text.text_length("x", "bytes")


# --- Retry-After and rate limits -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("Sat, 01 Aug 2026 13:01:00 GMT", 60.0),
        ("2026-08-01T13:00:30Z", 30.0),
        ("2026-08-01T12:00:00Z", 0.0),  # already past: no wait, never negative
        (str(int(NOW.timestamp()) + 90), 90.0),  # a Unix timestamp (X, Bluesky resets)
    ],
)
def test_retry_after_values_are_read(value: str, seconds: float) -> None:
    assert text.parse_retry_after(value, NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "nan", "inf", "1e400", "9" * 100])
def test_unreadable_retry_after_is_none(value: str | None) -> None:
    assert text.parse_retry_after(value, NOW) is None


def test_naive_now_is_taken_as_utc() -> None:
    assert text.parse_retry_after("2026-08-01T13:00:10Z", NOW.replace(tzinfo=None)) == 10.0


def test_recorded_mastodon_headers_give_iso_reset() -> None:
    limit = text.rate_limit_from_headers(recorded.headers("mastodon", "status_post"), NOW)
    assert limit == RateLimit(
        limit=300,
        remaining=235,
        reset_at=dt.datetime(2026, 8, 1, 15, 0, 0, 754511, tzinfo=dt.UTC),
    )


def test_recorded_x_headers_give_epoch_reset() -> None:
    limit = text.rate_limit_from_headers(recorded.headers("x", "search_recent"), NOW)
    assert limit is not None
    assert (limit.limit, limit.remaining) == (450, 448)
    assert limit.reset_at == dt.datetime.fromtimestamp(1665183229, dt.UTC)


def test_recorded_bluesky_headers_are_read() -> None:
    limit = text.rate_limit_from_headers(recorded.headers("bluesky", "search_posts"), NOW)
    assert limit is not None
    assert (limit.limit, limit.remaining) == (3000, 2983)
    assert limit.reset_at == dt.datetime.fromtimestamp(1747676784, dt.UTC)


def test_recorded_reddit_headers_give_limit_from_used_plus_remaining() -> None:
    limit = text.rate_limit_from_headers(recorded.headers("reddit", "subscribe"), NOW)
    assert limit == RateLimit(limit=600, remaining=263, reset_at=NOW + dt.timedelta(seconds=87))


def test_header_names_are_case_insensitive() -> None:
    limit = text.rate_limit_from_headers({"X-RateLimit-Remaining": "5"}, NOW)
    assert limit == RateLimit(remaining=5)


@pytest.mark.parametrize("headers", [None, {}, {"content-type": "application/json"}])
def test_no_rate_limit_headers_is_none(headers: dict[str, str] | None) -> None:
    assert text.rate_limit_from_headers(headers, NOW) is None


def test_garbage_rate_limit_values_are_ignored() -> None:
    limit = text.rate_limit_from_headers(
        {
            "x-ratelimit-limit": "lots",
            "x-ratelimit-remaining": "-1",
            "x-ratelimit-reset": "x",
        },
        NOW,
    )
    assert limit is None


def test_retry_after_header_wins_over_reset() -> None:
    headers = {"Retry-After": "30", "X-RateLimit-Reset": "2026-08-01T14:00:00Z"}
    assert text.retry_after_from_headers(headers, NOW) == 30.0


def test_429_without_retry_after_waits_until_reset() -> None:
    # given Mastodon's documented 429 headers (rack-attack): no Retry-After, a reset time
    headers = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "2026-08-01T13:05:00.000Z",
    }
    assert text.retry_after_from_headers(headers, NOW) == 300.0


def test_no_hint_means_no_retry_after() -> None:
    assert text.retry_after_from_headers({}, NOW) is None
