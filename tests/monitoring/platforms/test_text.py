"""Shared text normalisation: HTML to text, lengths."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from monitoring.platforms import text
from monitoring.platforms.base import PersonData, PostData
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


def read_by_html_parser(html: str) -> str:
    """The text as ``HTMLParser`` reads the markup: what plain markup's own reading must give."""
    parser = text._TextExtractor()
    parser.feed(html)
    parser.close()
    return text.clean_text("".join(parser.parts))


def _contents(doc: Any) -> Iterator[str]:
    if isinstance(doc, dict):
        if isinstance(doc.get("content"), str):
            yield doc["content"]
        for value in doc.values():
            yield from _contents(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from _contents(value)


def recorded_mastodon_contents() -> list[str]:
    """Every status content in the Mastodon recordings and Mastodon.py's cassettes."""
    folder = recorded.PAYLOADS_DIR / "mastodon"
    found: list[str] = []
    for name in sorted(folder.glob("*.json")):
        found.extend(_contents(json.loads(name.read_text(encoding="utf-8"))))
    for name in sorted((folder / "cassettes").glob("*.yaml")):
        for interaction in yaml.safe_load(name.read_text(encoding="utf-8"))["interactions"]:
            answer = interaction["response"]["body"]["string"]
            try:
                found.extend(_contents(json.loads(answer)))
            except ValueError:
                continue
    return list(dict.fromkeys(found))


def test_every_recorded_mastodon_status_reads_as_html_parser_reads_it() -> None:
    contents = recorded_mastodon_contents()
    assert len(contents) >= 10
    for html in contents:
        assert text.html_to_text(html) == read_by_html_parser(html), html


def test_recorded_mastodon_statuses_are_read_as_plain_markup_without_html_parser() -> None:
    for html in recorded_mastodon_contents():
        assert text._feed_plain_markup(text._TextExtractor(), html), html


@pytest.mark.parametrize(
    "markup",
    [
        "<script>alert('x')</script>visible",
        "<p>a<style>p{}</style>b</p>",
        "<!-- c -->x",
        "<P>upper</P>",
        "<a href='single'>quotes</a>",
        "<a href=bare>unquoted</a>",
        '<a href="x"title="y">no space</a>',
        "< p>space</p>",
        "a <3 b",
        "<p>trailing <",
        '<a href="x>y">angle in a value</a>',
        '<a HREF="https://e.example/x">upper attribute</a>',
        "<svg><p>inside</p></svg>after",
        "<br/>a<br />b<p/>c",
    ],
)
def test_markup_that_is_not_plain_is_read_by_html_parser(markup: str) -> None:
    plain = text._feed_plain_markup(text._TextExtractor(), markup)
    assert text.html_to_text(markup) == read_by_html_parser(markup)
    assert plain == (markup == "<br/>a<br />b<p/>c")


_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<br>",
        "<br/>",
        "<br />",
        "<p/>",
        "<span>",
        '<span class="invisible">',
        "</span>",
        '<a href="https://m.example/@bob" class="u-url mention">',
        '<a href="https://example.com/a?x=1&amp;y=2">',
        '<a href="javascript:alert(1)">',
        "<a>",
        "</a>",
        '<img alt=":blob:" src="x">',
        '<img alt="&lt;3"/>',
        "<ul>",
        "<li>",
        "</li>",
        "</ul>",
        "<script>",
        "</script>",
        "<!-- -->",
        "<P>",
        "@",
        "#",
        "https://example.com/a",
        "&amp;",
        "&lt;",
        "&#x1F600;",
        "&amp",
        "&nbsp;",
        "<",
        ">",
        " ",
        "\n",
        "word",
        "\u202e",
    ]
)


@given(st.lists(_PIECES, max_size=30).map("".join))
def test_any_markup_reads_as_html_parser_reads_it(markup: str) -> None:
    assert text.html_to_text(markup) == read_by_html_parser(markup)


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


def _post(raw: Any) -> PostData:
    author = PersonData(external_id="1", handle="a@m.example")
    return PostData("1", author, "t", "", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), raw=raw)


def test_a_post_keeps_the_json_text_of_its_raw_payload() -> None:
    payload = {"content": 'café 😀 "quoted" \\ back', "n": 3, "tags": [{"name": "x"}]}
    post = _post(payload)
    assert json.loads(post.raw_json) == payload == post.raw


def test_a_post_with_a_lone_surrogate_keeps_the_json_text_of_its_storable_payload() -> None:
    post = _post({"note": "half an emoji \ud83d", "nul": "a\x00b"})
    assert post.raw == {"note": "half an emoji \ufffd", "nul": "a\ufffdb"}
    assert json.loads(post.raw_json) == post.raw
    post.raw_json.encode()  # no lone surrogate left in the text the database gets


def test_a_post_whose_payload_json_cannot_write_says_so_when_its_json_is_asked() -> None:
    post = _post({"when": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
    with pytest.raises(TypeError):
        _ = post.raw_json
