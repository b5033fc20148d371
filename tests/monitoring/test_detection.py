"""Brand matching: names, aliases, products, handles, normalisation, boundaries, exclusions."""

from __future__ import annotations

import pytest

from monitoring.detection import BrandMatch, BrandMatcher, BrandTerms, matched_brand_ids, normalise

ACME = BrandTerms(
    brand_id=1,
    names=["Acme"],
    aliases=["Acme Corp"],
    products=["RoadRunner Pro"],
    handles=["@acme_help"],
)
TELVANA = BrandTerms(
    brand_id=2,
    names=["Telvana"],
    products=["Telvana Mobile"],
    exclusions=["telvana street"],
)
ZEPHYR = BrandTerms(brand_id=3, names=["Zephyrline"], aliases=["Zephyr Air"], exclusions=["zephyr"])
CAFE = BrandTerms(brand_id="cafe-ole", names=["Café Olé"])


@pytest.fixture(scope="module")
def matcher() -> BrandMatcher:
    return BrandMatcher([ACME, TELVANA, ZEPHYR, CAFE])


def _found(matcher: BrandMatcher, text: str) -> list[tuple[int | str, str]]:
    return [(m.brand_id, text[m.start : m.end]) for m in matcher.find(text)]


def test_name_is_found_with_its_span_in_the_original_text(matcher: BrandMatcher) -> None:
    # given a post naming a brand
    text = "why is Acme down again"
    # when matching
    matches = matcher.find(text)
    # then the match carries the brand, the configured term and the exact span
    assert matches == [BrandMatch(brand_id=1, term="Acme", start=7, end=11, kind="name")]


def test_alias_and_product_names_match_their_brand(matcher: BrandMatcher) -> None:
    assert _found(matcher, "ACME CORP support is slow") == [(1, "ACME CORP")]
    assert [m.kind for m in matcher.find("my roadrunner pro broke")] == ["product"]


def test_longest_term_wins_at_one_position(matcher: BrandMatcher) -> None:
    # "Acme Corp" is reported once, not as "Acme" plus "Acme Corp"
    assert [m.term for m in matcher.find("acme corp again")] == ["Acme Corp"]


@pytest.mark.parametrize("text", ["@acme_help pls", "ping acme_help now", "cc @ACME_HELP"])
def test_handle_matches_with_or_without_at_sign(matcher: BrandMatcher, text: str) -> None:
    matches = matcher.find(text)
    assert [(m.brand_id, m.kind) for m in matches] == [(1, "handle")]


def test_other_handle_that_starts_with_the_name_does_not_match(matcher: BrandMatcher) -> None:
    assert matcher.find("@acme_fanclub loves this") == []


@pytest.mark.parametrize(
    "text", ["acmeist art", "the acmes", "acme2 is a game", "subacme", "pacmen"]
)
def test_name_inside_a_longer_word_does_not_match(matcher: BrandMatcher, text: str) -> None:
    assert matcher.find(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Acme's app is broken", "Acme"),
        ("#Acme fail", "#Acme"),
        ("@acme hello?", "@acme"),
        ("see acme.com/help", "acme"),
        ("(acme) again!!", "acme"),
        ("ugh acme!!!", "acme"),
    ],
)
def test_name_next_to_punctuation_matches(matcher: BrandMatcher, text: str, expected: str) -> None:
    assert _found(matcher, text) == [(1, expected)]


@pytest.mark.parametrize(
    "text",
    ["CAFÉ OLÉ is closed", "cafe ole is closed", "Cafe\u0301 Ole\u0301 is closed", "café  olé"],
)
def test_accents_and_case_are_ignored(matcher: BrandMatcher, text: str) -> None:
    assert [m.brand_id for m in matcher.find(text)] == ["cafe-ole"]


def test_span_of_decomposed_accent_covers_the_combining_mark(matcher: BrandMatcher) -> None:
    text = "Cafe\u0301 Ole\u0301!"
    (match,) = matcher.find(text)
    assert text[match.start : match.end] == "Cafe\u0301 Ole\u0301"


def test_zero_width_characters_inside_a_name_are_ignored(matcher: BrandMatcher) -> None:
    text = "A\u200bc\u200dme lost my order"
    assert _found(matcher, text) == [(1, "A\u200bc\u200dme")]


def test_full_width_letters_are_folded(matcher: BrandMatcher) -> None:
    assert _found(matcher, "\uff21\uff23\uff2d\uff25 is down") == [(1, "\uff21\uff23\uff2d\uff25")]


def test_emoji_and_urls_around_names_still_match(matcher: BrandMatcher) -> None:
    text = "🔥acme🔥 is down https://status.acme.com/x 😡telvana😡"
    assert _found(matcher, text) == [(1, "acme"), (1, "acme"), (2, "telvana")]


def test_multi_word_terms_match_across_separators_and_hashtags(matcher: BrandMatcher) -> None:
    assert [m.term for m in matcher.find("#TelvanaMobile sucks")] == ["Telvana Mobile"]
    assert [m.term for m in matcher.find("telvana-mobile sucks")] == ["Telvana Mobile"]
    assert [m.term for m in matcher.find("telvana\n mobile sucks")] == ["Telvana Mobile"]


def test_bare_exclusion_word_does_not_fire(matcher: BrandMatcher) -> None:
    # given Zephyrline with the exclusion "zephyr": the wind is not the brand
    assert matcher.find("the zephyr blew all afternoon") == []
    assert matcher.matched_brand_ids("zephyrline lost my bag") == [3]


def test_exclusion_suppresses_a_match_inside_it_only(matcher: BrandMatcher) -> None:
    # given "telvana street" is an exclusion of Telvana
    text = "I live on Telvana Street and telvana is down"
    # then the name inside the street name is dropped and the real mention is kept
    assert _found(matcher, text) == [(2, "telvana")]


def test_exclusion_of_one_brand_does_not_hide_another() -> None:
    # given two brands sharing a word, only one of which excludes the phrase
    street = BrandTerms(brand_id="a", names=["Telvana"], exclusions=["telvana street"])
    shop = BrandTerms(brand_id="b", names=["Telvana"])
    matcher = BrandMatcher([street, shop])
    # then the other brand still matches inside the phrase
    assert matcher.matched_brand_ids("Telvana Street") == ["b"]


def test_same_term_listed_by_two_brands_is_reported_for_both() -> None:
    matcher = BrandMatcher([BrandTerms(10, names=["Nova"]), BrandTerms(11, aliases=["nova"])])
    assert matcher.matched_brand_ids("nova is down") == [10, 11]


def test_many_brands_are_matched_in_one_pass() -> None:
    # given 500 brands compiled into one matcher
    brands = [BrandTerms(i, names=[f"Brand{i:03d}x"], handles=[f"@b{i}_help"]) for i in range(500)]
    matcher = BrandMatcher(brands)
    # when a post names several of them
    text = "brand007x and @b42_help and BRAND499X but not brand5000x"
    # then each one is found, in order
    assert matched_brand_ids(matcher, text) == [7, 42, 499]


def test_each_brand_id_is_listed_once_in_order_of_first_mention(matcher: BrandMatcher) -> None:
    assert matcher.matched_brand_ids("telvana then acme then telvana again") == [2, 1]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\x00\x01\xff garbage \ufffd", "💩" * 1000, "a" * 200_000, "نص عربي acme 日本語"],
)
def test_odd_input_does_not_fail(matcher: BrandMatcher, text: str) -> None:
    matches = matcher.find(text)
    assert all(0 <= m.start < m.end <= len(text) for m in matches)


def test_non_latin_text_around_a_name_still_matches(matcher: BrandMatcher) -> None:
    assert _found(matcher, "日本語 acme 日本語") == [(1, "acme")]


def test_matcher_without_terms_finds_nothing() -> None:
    matcher = BrandMatcher([BrandTerms(1, names=["", "  "], handles=["@"])])
    assert matcher.find("anything at all") == []


def test_regex_metacharacters_in_terms_are_literal() -> None:
    matcher = BrandMatcher([BrandTerms(1, names=["C++ Shop", "A.B"]), BrandTerms(2, names=["AxB"])])
    assert matcher.matched_brand_ids("the c++ shop and a.b") == [1]
    assert matcher.matched_brand_ids("the cxx shop and acb") == []


def test_normalise_folds_case_accents_and_invisibles() -> None:
    assert normalise("Ça\u200b Straße \uff21\uff22") == "ca strasse ab"
