"""The bundled sandbox corpus has the shape and the mix the sandbox platform and the demo rely on.

Pure tests: the JSON is read from the repository, no Django, no database.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

CORPUS_PATH = Path(__file__).resolve().parents[2] / "monitoring/platforms/sandbox_corpus.json"

BRAND_KEYS = {"northwind", "telvana", "orbix", "zephyrline"}
PERSONAS = {"friendly", "liker", "silent", "hostile", "blocker", "follower", "customer"}
KINDS = {"complaint", "praise", "question", "neutral", "joke", "sarcasm", "news"}
TOPICS = {
    "outage",
    "billing",
    "support",
    "speed",
    "app",
    "roaming",
    "contract",
    "installation",
    "coverage",
    "pricing",
    "privacy",
    "other",
}
LANGS = {"en", "es", "de", "fr", "pt", "it", "nl"}
RESPONSE_KINDS = {
    "friendly",
    "hostile",
    "opt_out",
    "thanks",
    # The own-brand customer's conversation: details sent, fixed, post updated.
    "customer_help",
    "customer_fixed",
    "customer_amended",
}
MAX_MINUTE = 240
MAX_TEXT = 3000
BURST_WINDOW = (30, 50)

POST_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "author": (str,),
    "minute": (int,),
    "text": (str,),
    "lang": (str,),
    "kind": (str,),
    # The label the classifier is checked against (tests/monitoring/test_sandbox_labels.py).
    "complaint": (bool,),
    "brand": (str, type(None)),
    "topic": (str, type(None)),
    "reply_to": (str, type(None)),
}
PERSON_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "handle": (str,),
    "name": (str,),
    "persona": (str,),
}


@cache
def _raw() -> str:
    return CORPUS_PATH.read_text(encoding="utf-8")


@pytest.fixture
def corpus() -> dict[str, Any]:
    # A fresh copy per test, so a test that mutates it cannot leak into another.
    return json.loads(_raw())


def _field_problems(item: Any, fields: dict[str, tuple[type, ...]], where: str) -> list[str]:
    if not isinstance(item, dict):
        return [f"{where} is not an object"]
    problems = []
    for name, types in fields.items():
        if name not in item:
            problems.append(f"{where} has no {name!r}")
        # bool is an int in Python; a minute of True is still wrong.
        elif not isinstance(item[name], types) or (
            isinstance(item[name], bool) and bool not in types
        ):
            problems.append(f"{where} {name!r} has type {type(item[name]).__name__}")
    return problems


def structural_problems(corpus: Any) -> list[str]:
    """Every way the corpus breaks what the sandbox adapter relies on; [] when sound."""
    if not isinstance(corpus, dict):
        return ["corpus is not an object"]
    missing = {"version", "brands", "people", "posts", "responses"} - corpus.keys()
    if missing:
        return [f"corpus has no {sorted(missing)}"]
    problems: list[str] = []
    if corpus["version"] != 1:
        problems.append(f"unknown version {corpus['version']!r}")

    brand_keys = [b.get("key") for b in corpus["brands"] if isinstance(b, dict)]
    if set(brand_keys) != BRAND_KEYS or len(brand_keys) != len(BRAND_KEYS):
        problems.append(f"brands are {brand_keys}")

    people = corpus["people"]
    person_ids: set[str] = set()
    for index, person in enumerate(people):
        found = _field_problems(person, PERSON_FIELDS, f"person #{index}")
        problems += found
        if found:
            continue
        if person["id"] in person_ids:
            problems.append(f"duplicate person id {person['id']}")
        person_ids.add(person["id"])
        if person["persona"] not in PERSONAS:
            problems.append(f"{person['id']} has persona {person['persona']!r}")
        if not person["handle"].strip():
            problems.append(f"{person['id']} has an empty handle")
        if "brand_account" in person and person["brand_account"] not in BRAND_KEYS:
            problems.append(f"{person['id']} belongs to unknown brand {person['brand_account']!r}")
    handles = [p.get("handle") for p in people if isinstance(p, dict)]
    problems += [f"duplicate handle {h}" for h, n in Counter(handles).items() if n > 1]

    seen: dict[str, int] = {}  # post id -> minute, for posts already read
    previous_minute = 0
    for index, post in enumerate(corpus["posts"]):
        found = _field_problems(post, POST_FIELDS, f"post #{index}")
        problems += found
        if found:
            continue
        pid = post["id"]
        if pid in seen:
            problems.append(f"duplicate post id {pid}")
        if post["author"] not in person_ids:
            problems.append(f"{pid} has unknown author {post['author']}")
        if not 0 <= post["minute"] <= MAX_MINUTE:
            problems.append(f"{pid} appears at minute {post['minute']}")
        # The adapter pages through posts in file order, so time must never go backwards.
        if post["minute"] < previous_minute:
            problems.append(f"{pid} is out of minute order")
        previous_minute = post["minute"]
        if not post["text"].strip():
            problems.append(f"{pid} has an empty text")
        if len(post["text"]) > MAX_TEXT:
            problems.append(f"{pid} is {len(post['text'])} characters long")
        if post["lang"] not in LANGS:
            problems.append(f"{pid} has lang {post['lang']!r}")
        if post["kind"] not in KINDS:
            problems.append(f"{pid} has kind {post['kind']!r}")
        if post["brand"] is not None and post["brand"] not in BRAND_KEYS:
            problems.append(f"{pid} has brand {post['brand']!r}")
        if post["topic"] is not None and post["topic"] not in TOPICS:
            problems.append(f"{pid} has topic {post['topic']!r}")
        if post["kind"] == "complaint" and not post["complaint"]:
            problems.append(f"{pid} is a complaint labelled as not one")
        if post["kind"] in {"praise", "question", "news"} and post["complaint"]:
            problems.append(f"{pid} is {post['kind']} labelled as a complaint")
        if post["kind"] in {"complaint", "sarcasm"} and post["topic"] is None:
            problems.append(f"{pid} is a {post['kind']} without a topic")
        parent = post["reply_to"]
        if parent is not None and parent not in seen:
            problems.append(f"{pid} replies to {parent}, which is not an earlier post")
        elif parent is not None and seen[parent] > post["minute"]:
            problems.append(f"{pid} appears before its parent {parent}")
        seen[pid] = post["minute"]

    responses = corpus["responses"]
    if not isinstance(responses, dict) or set(responses) != RESPONSE_KINDS:
        problems.append(f"responses must have exactly {', '.join(sorted(RESPONSE_KINDS))}")
    else:
        for kind, texts in responses.items():
            if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
                problems.append(f"responses[{kind!r}] has an empty or non-text entry")
    return problems


def _without_format_chars(text: str) -> str:
    """The text as a reader sees it: zero-width and bidi control characters removed."""
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _names(brand: dict[str, Any]) -> list[str]:
    handles = [h.lstrip("@") for h in brand["handles"]["sandbox"]]
    return [n.lower() for n in brand["aliases"] + brand["products"] + handles]


def _mentions(text: str, names: list[str]) -> bool:
    flat = _without_format_chars(text).lower()
    return any(name in flat for name in names)


def _share(posts: list[dict[str, Any]], kinds: set[str]) -> float:
    return sum(p["kind"] in kinds for p in posts) / len(posts)


# --- The structure the sandbox code relies on --------------------------------------


def test_bundled_corpus_has_no_structural_problems(corpus: dict[str, Any]) -> None:
    # Given the corpus shipped with the sandbox platform
    # When it is checked against every structural rule
    problems = structural_problems(corpus)
    # Then nothing is wrong
    assert problems == []


def _dup_post_id(c: dict[str, Any]) -> None:
    c["posts"][1]["id"] = c["posts"][0]["id"]


def _unknown_author(c: dict[str, Any]) -> None:
    c["posts"][0]["author"] = "u-999"


def _reply_to_later_post(c: dict[str, Any]) -> None:
    c["posts"][0]["reply_to"] = c["posts"][-1]["id"]


def _reply_to_missing_post(c: dict[str, Any]) -> None:
    c["posts"][5]["reply_to"] = "sb-9999"


def _unknown_brand(c: dict[str, Any]) -> None:
    c["posts"][0]["brand"] = "acme"


def _unknown_persona(c: dict[str, Any]) -> None:
    c["people"][0]["persona"] = "jackal"


def _empty_lang(c: dict[str, Any]) -> None:
    c["posts"][0]["lang"] = ""


def _blank_text(c: dict[str, Any]) -> None:
    c["posts"][0]["text"] = "   "


def _huge_text(c: dict[str, Any]) -> None:
    c["posts"][0]["text"] = "x" * (MAX_TEXT + 1)


def _missing_field(c: dict[str, Any]) -> None:
    del c["posts"][0]["topic"]


def _minute_as_text(c: dict[str, Any]) -> None:
    c["posts"][0]["minute"] = "0"


def _minute_as_bool(c: dict[str, Any]) -> None:
    c["posts"][0]["minute"] = True


def _minute_out_of_range(c: dict[str, Any]) -> None:
    c["posts"][-1]["minute"] = MAX_MINUTE + 1


def _minutes_out_of_order(c: dict[str, Any]) -> None:
    c["posts"][0]["minute"], c["posts"][-1]["minute"] = c["posts"][-1]["minute"], 0


def _label_as_text(c: dict[str, Any]) -> None:
    c["posts"][0]["complaint"] = "yes"


def _praise_labelled_a_complaint(c: dict[str, Any]) -> None:
    next(p for p in c["posts"] if p["kind"] == "praise")["complaint"] = True


def _complaint_labelled_not_one(c: dict[str, Any]) -> None:
    next(p for p in c["posts"] if p["kind"] == "complaint")["complaint"] = False


def _unknown_kind(c: dict[str, Any]) -> None:
    c["posts"][0]["kind"] = "rant"


def _unknown_topic(c: dict[str, Any]) -> None:
    c["posts"][0]["topic"] = "weather"


def _complaint_without_topic(c: dict[str, Any]) -> None:
    next(p for p in c["posts"] if p["kind"] == "complaint")["topic"] = None


def _unknown_brand_account(c: dict[str, Any]) -> None:
    next(p for p in c["people"] if "brand_account" in p)["brand_account"] = "acme"


def _duplicate_handle(c: dict[str, Any]) -> None:
    c["people"][1]["handle"] = c["people"][0]["handle"]


def _person_not_an_object(c: dict[str, Any]) -> None:
    c["people"].append("maya_k")


def _missing_section(c: dict[str, Any]) -> None:
    del c["responses"]


def _empty_response(c: dict[str, Any]) -> None:
    c["responses"]["opt_out"].append("")


def _brand_missing(c: dict[str, Any]) -> None:
    c["brands"].pop()


@pytest.mark.parametrize(
    "break_it",
    [
        _dup_post_id,
        _unknown_author,
        _reply_to_later_post,
        _reply_to_missing_post,
        _unknown_brand,
        _unknown_persona,
        _empty_lang,
        _blank_text,
        _huge_text,
        _missing_field,
        _minute_as_text,
        _minute_as_bool,
        _minute_out_of_range,
        _minutes_out_of_order,
        _label_as_text,
        _praise_labelled_a_complaint,
        _complaint_labelled_not_one,
        _unknown_kind,
        _unknown_topic,
        _complaint_without_topic,
        _unknown_brand_account,
        _duplicate_handle,
        _person_not_an_object,
        _missing_section,
        _empty_response,
        _brand_missing,
    ],
)
def test_structural_check_catches_a_broken_corpus(
    corpus: dict[str, Any], break_it: Callable[[dict[str, Any]], None]
) -> None:
    # Given a copy of the corpus with one thing broken
    broken = copy.deepcopy(corpus)
    break_it(broken)
    # When it is checked
    problems = structural_problems(broken)
    # Then the check reports it
    assert problems != []


@pytest.mark.parametrize("not_a_corpus", [None, [], "posts", {}, {"version": 1}])
def test_structural_check_rejects_what_is_not_a_corpus(not_a_corpus: Any) -> None:
    assert structural_problems(not_a_corpus) != []


def test_file_is_utf8_json_with_invisible_characters_escaped() -> None:
    # Given the raw file: the bidi override and the zero-width joiner must be visible in review
    raw = _raw()
    # Then no format character is stored raw, and the escapes are there
    assert not [c for c in raw if unicodedata.category(c) == "Cf"]
    assert "\\u202e" in raw.lower()
    assert "\\u200d" in raw.lower()


# --- Brands -------------------------------------------------------------------------


def test_brands_are_the_four_invented_ones_and_only_northwind_is_ours(
    corpus: dict[str, Any],
) -> None:
    kinds = {b["key"]: b["kind"] for b in corpus["brands"]}
    assert kinds == {
        "northwind": "own",
        "telvana": "competitor",
        "orbix": "competitor",
        "zephyrline": "competitor",
    }


def test_every_brand_has_names_handles_and_exclusions_as_lists_of_text(
    corpus: dict[str, Any],
) -> None:
    for brand in corpus["brands"]:
        assert isinstance(brand["name"], str) and brand["name"]
        for field in ("aliases", "products", "exclusions"):
            assert isinstance(brand[field], list), (brand["key"], field)
            assert all(isinstance(v, str) and v.strip() for v in brand[field]), brand["key"]
        assert brand["aliases"], brand["key"]
        sandbox_handles = brand["handles"]["sandbox"]
        assert sandbox_handles and all(h.startswith("@") for h in sandbox_handles)


def test_exclusions_never_knock_out_the_brands_own_names(corpus: dict[str, Any]) -> None:
    # A bare "zephyr" exclusion would silently drop every "Zephyr Line" and "Zephyr Max" post.
    for brand in corpus["brands"]:
        for exclusion in brand["exclusions"]:
            pattern = re.compile(rf"\b{re.escape(exclusion)}\b", re.IGNORECASE)
            for name in brand["aliases"] + brand["products"]:
                assert not pattern.search(name), (brand["key"], exclusion, name)


def test_every_sandbox_handle_of_a_brand_is_an_account_of_that_brand(
    corpus: dict[str, Any],
) -> None:
    owner = {p["handle"]: p.get("brand_account") for p in corpus["people"]}
    for brand in corpus["brands"]:
        for handle in brand["handles"]["sandbox"]:
            assert owner.get(handle.lstrip("@")) == brand["key"], handle


# --- People -------------------------------------------------------------------------


def test_brand_accounts_never_answer(corpus: dict[str, Any]) -> None:
    accounts = [p for p in corpus["people"] if "brand_account" in p]
    assert {p["brand_account"] for p in accounts} == BRAND_KEYS
    assert all(p["persona"] == "silent" for p in accounts)


def test_persona_mix_gives_the_demo_every_reaction(corpus: dict[str, Any]) -> None:
    # Given the people who are not brand accounts
    people = [p for p in corpus["people"] if "brand_account" not in p]
    counts = Counter(p["persona"] for p in people)
    # Then there are about 120 of them, and every reaction happens often enough to be seen
    assert len(people) >= 110
    assert counts["friendly"] >= 0.25 * len(people)
    assert counts["silent"] >= 0.30 * len(people)
    assert counts["liker"] >= 0.12 * len(people)
    assert counts["hostile"] >= 10
    assert counts["blocker"] >= 5
    assert counts["follower"] >= 5
    # The README tour's own-brand customer answers every step of the conversation.
    assert counts["customer"] >= 1


# --- Posts: the mix ------------------------------------------------------------------


def test_post_kinds_follow_the_planned_mix(corpus: dict[str, Any]) -> None:
    posts = corpus["posts"]
    assert len(posts) >= 380
    assert _share(posts, {"complaint"}) >= 0.44
    assert _share(posts, {"praise"}) >= 0.12
    assert _share(posts, {"question"}) >= 0.08
    assert _share(posts, {"neutral", "news"}) >= 0.12
    assert _share(posts, {"joke"}) >= 0.06
    assert _share(posts, {"sarcasm"}) >= 0.08


def test_every_brand_draws_complaints_and_ours_about_a_sixth(corpus: dict[str, Any]) -> None:
    complaints = [p for p in corpus["posts"] if p["kind"] == "complaint"]
    per_brand = Counter(p["brand"] for p in complaints)
    assert all(per_brand[key] >= 25 for key in BRAND_KEYS), per_brand
    assert 0.12 <= per_brand["northwind"] / len(complaints) <= 0.25


def test_complaints_cover_every_topic(corpus: dict[str, Any]) -> None:
    topics = {p["topic"] for p in corpus["posts"] if p["kind"] in {"complaint", "sarcasm"}}
    assert topics == TOPICS


def test_demo_shows_posts_at_once(corpus: dict[str, Any]) -> None:
    at_start = [p for p in corpus["posts"] if p["minute"] <= 5]
    assert len(at_start) >= 50
    assert {p["kind"] for p in at_start} >= {"complaint", "praise", "question"}


def test_zephyrline_outage_burst_stands_out(corpus: dict[str, Any]) -> None:
    # Given the Zephyrline outage complaints
    outage = [
        p["minute"]
        for p in corpus["posts"]
        if p["kind"] == "complaint" and p["brand"] == "zephyrline" and p["topic"] == "outage"
    ]
    low, high = BURST_WINDOW
    # Then at least 40 fall inside the incident window (the brief asks for 35+)
    assert sum(low <= m <= high for m in outage) >= 40
    # And no window of the same width elsewhere comes close, so a spike detector sees one incident
    width = high - low
    for start in range(0, MAX_MINUTE - width + 1):
        if start + width < low or start > high:
            assert sum(start <= m <= start + width for m in outage) <= 5, start


def test_non_english_posts_in_six_languages(corpus: dict[str, Any]) -> None:
    foreign = [p for p in corpus["posts"] if p["lang"] != "en"]
    assert len(foreign) >= 25
    assert {p["lang"] for p in foreign} == LANGS - {"en"}
    assert sum(p["kind"] == "complaint" for p in foreign) >= 10


def test_zephyr_false_friends_are_unbranded(corpus: dict[str, Any]) -> None:
    # Given the posts that say "zephyr" without naming Zephyrline (the wind, the RTOS, a car...)
    zephyrline = next(b for b in corpus["brands"] if b["key"] == "zephyrline")
    names = _names(zephyrline)
    false_friends = [
        p
        for p in corpus["posts"]
        if re.search(r"z[eé]ph[yi]r", p["text"], re.IGNORECASE) and not _mentions(p["text"], names)
    ]
    # Then there are enough of them to test exclusions, and none is labelled as the brand
    assert len(false_friends) >= 12
    assert all(p["brand"] is None for p in false_friends)


def test_other_brand_false_friends_are_unbranded(corpus: dict[str, Any]) -> None:
    # Northwind the sample database and Orbix the CORBA broker are not our brands.
    for exclusion in ("Northwind Traders", "Northwind database", "Orbix ORB"):
        hits = [p for p in corpus["posts"] if exclusion.lower() in p["text"].lower()]
        assert hits and all(p["brand"] is None for p in hits), exclusion


def test_every_top_level_branded_post_names_its_brand(corpus: dict[str, Any]) -> None:
    # Replies may say just "same here"; a top-level post labelled with a brand must name it,
    # or the detection tests built on these labels would be testing nothing.
    names = {b["key"]: _names(b) for b in corpus["brands"]}
    unnamed = [
        p["id"]
        for p in corpus["posts"]
        if p["brand"] and p["reply_to"] is None and not _mentions(p["text"], names[p["brand"]])
    ]
    assert unnamed == []


def test_handles_are_mentioned_often(corpus: dict[str, Any]) -> None:
    handles = {h.lower() for b in corpus["brands"] for h in b["handles"]["sandbox"]}
    mentioning = [p for p in corpus["posts"] if any(h in p["text"].lower() for h in handles)]
    assert len(mentioning) >= 40


def test_replies_form_threads(corpus: dict[str, Any]) -> None:
    posts = {p["id"]: p for p in corpus["posts"]}
    replies = [p for p in posts.values() if p["reply_to"]]
    assert len(replies) >= 14
    # At least one conversation goes three posts deep.
    assert any(posts[p["reply_to"]]["reply_to"] for p in replies)
    # Someone answers a post in the burst while the burst is going on.
    low, high = BURST_WINDOW
    assert any(low <= p["minute"] <= high and p["brand"] == "zephyrline" for p in replies)


def test_brand_accounts_only_post_news_or_service_replies(corpus: dict[str, Any]) -> None:
    accounts = {p["id"] for p in corpus["people"] if "brand_account" in p}
    for post in corpus["posts"]:
        if post["author"] in accounts:
            assert post["kind"] == "news" or post["reply_to"], post["id"]


def test_texts_are_not_repeated(corpus: dict[str, Any]) -> None:
    texts = Counter(p["text"] for p in corpus["posts"])
    assert [t for t, n in texts.items() if n > 1] == []


# --- Posts that test escaping and normalisation -----------------------------------------


def test_hostile_markup_and_entities_are_present(corpus: dict[str, Any]) -> None:
    texts = [p["text"] for p in corpus["posts"]]
    assert any("<script>alert('x')</script>" in t for t in texts)
    assert any("<b>bold</b>" in t and "&amp;" in t for t in texts)


def test_right_to_left_override_is_present(corpus: dict[str, Any]) -> None:
    assert any("\u202e" in p["text"] for p in corpus["posts"])


def test_zero_width_joiner_hides_a_brand_name(corpus: dict[str, Any]) -> None:
    # Given a post where the brand name is split by U+200D
    hidden = [
        p
        for p in corpus["posts"]
        if "\u200d" in p["text"]
        and p["brand"]
        and p["brand"] not in p["text"].lower()
        and p["brand"] in _without_format_chars(p["text"]).lower()
    ]
    # Then it is labelled with the brand a reader sees
    assert hidden


def test_emoji_heavy_and_very_long_posts_are_present(corpus: dict[str, Any]) -> None:
    def emoji_count(text: str) -> int:
        return sum(unicodedata.category(c) == "So" for c in text)

    assert sum(emoji_count(p["text"]) >= 6 for p in corpus["posts"]) >= 3
    longest = max(corpus["posts"], key=lambda p: len(p["text"]))
    assert 1800 <= len(longest["text"]) <= MAX_TEXT


# --- Responses ---------------------------------------------------------------------------


def test_responses_are_varied_and_unique(corpus: dict[str, Any]) -> None:
    responses = corpus["responses"]
    floors = {"friendly": 18, "thanks": 8, "hostile": 8, "opt_out": 10}
    for kind, floor in floors.items():
        assert len(responses[kind]) >= floor, kind
        assert len(set(responses[kind])) == len(responses[kind]), kind
    every = [t for texts in responses.values() for t in texts]
    assert len(set(every)) == len(every)


def test_opt_outs_say_no_and_kind_answers_do_not(corpus: dict[str, Any]) -> None:
    # The opt-out rule keys on words like these; a friendly reply must never trip it.
    refusal = re.compile(
        r"stop|leave me alone|spam|not interested|unfollow|go away|block|don't (@|contact)|"
        r"no thanks|remove me",
        re.IGNORECASE,
    )
    assert all(refusal.search(t) for t in corpus["responses"]["opt_out"])
    kind = corpus["responses"]["friendly"] + corpus["responses"]["thanks"]
    assert [t for t in kind if refusal.search(t)] == []
