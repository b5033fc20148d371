"""The tone guard's normalised view: look-alikes from Unicode's confusables data, spans kept."""

# Look-alike letters are the point of these tests.
# ruff: noqa: RUF001

from __future__ import annotations

import pytest

from outreach.tone import ReplyContext, check_reply
from outreach.tone.normalise import SUPPLEMENT, lookalikes, normalise, prepare


def competitor() -> ReplyContext:
    return ReplyContext(
        playbook="competitor",
        own_terms=("Northwind",),
        competitor_terms=("Telvana",),
        post_text="Telvana has been down all day.",
    )


@pytest.mark.parametrize(
    "disguised",
    [
        "ꓠꓳꓣꓔꓧꓪiꓠꓓ",  # Lisu letters: in UTS #39, never in a hand-typed map
        "ΝΟRΤΗWΙΝD",  # Greek capitals, Iota read as I
        "ɴᴏʀᴛʜᴡɪɴᴅ",  # Latin small capitals: the supplement
        "nоrthwіnd",  # Cyrillic o and i
    ],
)
def test_our_name_in_look_alike_letters_is_found_and_its_span_is_the_original(
    disguised: str,
) -> None:
    text = f"Sorry about the outage. {disguised} never drops."
    found = [f for f in check_reply(text, competitor()) if f.code == "own_brand_named"]
    assert found and found[0].blocking
    assert text[found[0].start : found[0].end] == disguised


def test_every_character_of_the_view_points_into_the_original() -> None:
    text = "Ｓ\u200bw𝐢tch to ꓠꓳꓣꓔꓧꓪiꓠꓓ dot com — “now”"
    view = prepare(text)
    assert len(view.pos) == len(view.text)
    assert all(0 <= p < len(text) for p in view.pos)
    assert "switch to northwind.com" in view.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¥2000", "¥2000"),  # UTS #39 says ¥ looks like Y: prices must still read as prices
        ("٥٠", "٥٠"),  # Arabic-Indic digits keep their value
        ("Straße", "strasse"),  # ß casefolds to ss, not to the beta it resembles
        ("“quoted” – ok — fine", '"quoted" - ok - fine'),  # the punctuation supplement
    ],
)
def test_digits_currency_and_letters_of_other_languages_keep_their_meaning(
    text: str, expected: str
) -> None:
    assert normalise(text).text == expected


def test_a_price_in_yen_is_still_a_price() -> None:
    findings = check_reply("Sorry about the outage. Plans from ¥2000.", competitor())
    assert "price" in {f.code for f in findings if f.blocking}


def test_the_look_alike_table_is_built_once_from_the_data_plus_a_short_supplement() -> None:
    table = lookalikes()
    assert lookalikes() is table  # cached: the data file is parsed once
    assert len(table) > 10 * len(SUPPLEMENT)  # the bulk comes from UTS #39
    assert all(len(k) == 1 and not k.isascii() for k in table)
    assert all(v.isascii() and v for v in table.values())
    assert all(table[k] == v for k, v in SUPPLEMENT.items())
