"""Shared text normalisation: HTML to text, lengths."""

from __future__ import annotations

import json

import pytest

from monitoring.platforms import text
from tests.monitoring.platforms import recorded

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


@pytest.mark.parametrize(
    "payload",
    [
        {"content": "broken \x00 here"},
        {"account": {"note": "half an emoji \ud83d"}},
        {"tags": ["fine", {"name\udc00": "key too"}]},
        ["\x00"],
    ],
)
def test_a_payload_with_a_nul_or_lone_surrogate_anywhere_is_made_storable(payload: object) -> None:
    made = text.storable(payload)
    dumped = json.dumps(made, ensure_ascii=False)
    assert "\x00" not in dumped and "\\u0000" not in dumped
    assert all(not 0xD800 <= ord(c) <= 0xDFFF for c in dumped)
    assert "\ufffd" in dumped


def test_a_clean_payload_is_kept_as_it_is() -> None:
    payload = {"content": "café 😀 \\u0000 typed as text", "n": 3, "tags": [{"name": "x"}]}
    assert text.storable(payload) == payload
