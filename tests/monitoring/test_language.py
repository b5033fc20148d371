"""A post's language: the platform's code when given, else detected; covered or for a person.

Pure tests: no Django, no database.
"""

from __future__ import annotations

import pytest

from monitoring import language
from monitoring.language import COVERED_LANGUAGES, Language, language_of, platform_code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("the broadband has been down since yesterday and nobody answers the phone", "en"),
        ("Plus de réseau depuis ce matin et le service client ne répond pas", "fr"),
        ("Sin internet desde ayer y nadie contesta en atención al cliente", "es"),
        ("Das Internet ist seit gestern kaputt und niemand geht ans Telefon", "de"),
        ("Estou sem internet desde ontem e ninguém atende o telefone", "pt"),
    ],
)
def test_a_covered_language_is_detected_and_judged(text: str, code: str) -> None:
    # Given a post with no language from its platform
    found = language_of(text)
    # Then its language is read from the text, and the classifier covers it
    assert found == Language(code, "detected")
    assert found.covered


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("インターネットが昨日から繋がりません。サポートにも電話がつながらない", "ja"),
        ("Internet nie działa od wczoraj i nikt nie odbiera telefonu w biurze", "pl"),
        ("La connessione non funziona da ieri e nessuno risponde al telefono", "it"),
    ],
)
def test_an_uncovered_language_is_detected_and_not_covered(text: str, code: str) -> None:
    found = language_of(text)
    assert found.code == code
    assert not found.covered


def test_the_platforms_code_wins_over_detection() -> None:
    # Given a platform that says the post is Italian (it knows its user), whatever the text
    found = language_of("the broadband has been down since yesterday", "it")
    # Then its code is taken as given, and detection is not run
    assert found == Language("it", "platform")
    assert not found.covered


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("pt-BR", "pt"),
        ("EN_us", "en"),
        (" fr ", "fr"),
        ("fra", "fr"),
        ("ger", "de"),
        ("ja", "ja"),
        # No language: undetermined, no linguistic content, X's pseudo-codes, junk.
        ("und", ""),
        ("zxx", ""),
        ("qme", ""),
        ("qht", ""),
        ("", ""),
        (None, ""),
        (42, ""),
        ("<script>", ""),
        ("english please", ""),
        ("x" * 10_000, ""),
    ],
)
def test_platform_codes_are_reduced_to_the_primary_language(raw: object, code: str) -> None:
    assert platform_code(raw) == code


def test_a_platform_code_that_says_nothing_falls_back_to_detection() -> None:
    found = language_of("Sin internet desde ayer y nadie contesta en atención al cliente", "und")
    assert found == Language("es", "detected")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "🔥🔥🔥😡😡😡📉📉📉",
        "ugh @telvana",
        "@telvana #fail https://example.com/a/very/long/path/that/is/not/words",
        "!!!??? 12345",
    ],
)
def test_a_post_with_too_few_words_has_no_language_and_is_judged_as_usual(text: str) -> None:
    # Given a post with almost no letters once handles, tags and links are taken out
    found = language_of(text)
    # Then there is no language to tell: it is not flagged, the classifier judges it
    assert found == Language("", "")
    assert found.covered


@pytest.mark.parametrize("text", [None, 12, b"bytes are not text", ["a", "list"]])
def test_values_that_are_not_text_get_no_language_instead_of_an_error(text: object) -> None:
    assert language_of(text) == Language("", "")


def test_an_oversize_post_is_read_from_its_start_only() -> None:
    # Given a hostile multi-megabyte post: a French paragraph, then a flood of English
    text = "Plus de réseau depuis ce matin et personne ne répond. " * 10 + "the " * 1_000_000
    # Then it is judged on its first lines (bounded work), as French
    assert language_of(text).code == "fr"


def test_only_languages_the_classifier_was_trained_and_measured_in_are_covered() -> None:
    assert {"en", "fr", "es", "de", "pt"} == COVERED_LANGUAGES
    assert language.is_covered("")
    assert not language.is_covered("nl")


def test_a_batch_pairs_each_text_with_its_platform_code() -> None:
    found = language.languages_of(
        ["Heute den Vertrag verlängert, mal schauen wie es wird mit dem Netz", "ciao"],
        ["", "it"],
    )
    assert found == [Language("de", "detected"), Language("it", "platform")]


def test_plain_english_is_taken_as_english_without_running_the_detector(monkeypatch) -> None:
    # Given a detector that must not be asked (it costs about half a classifier per post)
    def refuse() -> None:
        raise AssertionError("the detector was asked")

    monkeypatch.setattr(language, "_identifier", refuse)
    # Then plain ASCII with two English function words is English at once
    assert language_of("my broadband has been down all day, thanks for nothing") == Language(
        "en", "detected"
    )


@pytest.mark.parametrize(
    "text",
    [
        # Accents, or too few English function words: the detector decides.
        "Le wifi ne marche plus depuis the update, c'est nul",
        "Il router non funziona ancora, nessuno risponde",
    ],
)
def test_anything_but_plain_english_goes_to_the_detector(monkeypatch, text: str) -> None:
    asked: list[str] = []
    real = language._identifier()

    class Spy:
        def classify(self, cleaned: str) -> tuple[str, float]:
            asked.append(cleaned)
            return real.classify(cleaned)

    monkeypatch.setattr(language, "_identifier", Spy)
    language_of(text)
    assert asked
