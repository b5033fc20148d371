"""The tone guard (outreach/tone.py): pure text in, findings out. No database."""

# Look-alike letters are the point of the evasion tests below.
# ruff: noqa: RUF001

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from outreach.tone import (
    ALWAYS_BLOCKING,
    CODES,
    SALES_CODES,
    WARNING_CODES,
    Finding,
    ReplyContext,
    blocking,
    check_reply,
    measure_length,
)
from tests.outreach.tone_contexts import COMPETITORS, OWN, competitor, own_brand

EVAL_FILE = Path(__file__).resolve().parent / "tone_eval.jsonl"

EMPATHY = "Sorry you're stuck without internet on a work day. "


def blocking_codes(text: str, context: ReplyContext) -> set[str]:
    return {f.code for f in blocking(check_reply(text, context))}


def all_codes(text: str, context: ReplyContext) -> set[str]:
    return {f.code for f in check_reply(text, context)}


# --- the code table ----------------------------------------------------------------


def test_every_code_is_documented_in_the_module_table() -> None:
    # Given the module docstring and the CODES table
    import outreach.tone as tone

    # Then every code has a one-line explanation in both, and belongs to one class
    for code in CODES:
        assert f"\n{code} " in tone.__doc__, code
    # The two that depend on the reply: blocking on a first reply, a warning later.
    by_reply = {"no_reference_to_problem", "no_contact_route"}
    assert SALES_CODES | ALWAYS_BLOCKING | WARNING_CODES | by_reply == set(CODES)


# --- a clean reply -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Sorry Telvana's outage hit you. Hope it's back up soon.",
        "Three calls and three different answers would drive me up the wall. Hope they sort it.",
        "Sorry, enjoy the bit of free time if you can, hope it's back soon.",
        "Ugh, sorry. Try again later, hope it works by then.",
        "Hope they sort it soon.",
        "The north wind took the mast down last winter too, sorry. Hope it's quicker this time.",
        "We're sorry to hear that, working from home offline is exhausting.",
    ],
)
def test_an_empathetic_competitor_reply_has_no_findings(text: str) -> None:
    # When a plain, kind first reply is checked
    findings = check_reply(text, competitor())

    # Then nothing is reported at all
    assert findings == []


# --- one that blocks, one that must not, per code -------------------------------------

BLOCKS = [
    ("own_brand_named", EMPATHY + "Northwind customers nearby were fine."),
    ("link", EMPATHY + "Outage map: https://status.example.org/telvana"),
    ("link", EMPATHY + "Details at fibrecheck.io"),
    ("price", EMPATHY + "Fibre is only $25/mo elsewhere."),
    ("price", EMPATHY + "Twenty quid a month gets you gigabit these days."),
    ("price", EMPATHY + "You'd get the router for free."),
    ("discount", EMPATHY + "There's 50% off for anyone leaving Telvana."),
    ("discount", EMPATHY + "Plenty of cheaper plans around."),
    ("offer", EMPATHY + "We have a special offer for people hit by today's outage."),
    ("offer", EMPATHY + "First month free if you fancy a change."),
    ("promo_code", EMPATHY + "Use code WFH26 for a backup line."),
    ("promo_code", EMPATHY + "DM for a coupon."),
    ("call_to_action", EMPATHY + "Have you considered switching?"),
    ("call_to_action", EMPATHY + "DM us and a human will answer."),
    ("call_to_action", EMPATHY + "Check out what else is around."),
    ("call_to_action", EMPATHY + "Come on over, the water's fine."),
    ("call_to_action", EMPATHY + "Sign up elsewhere and be done with it."),
    ("self_promotion", EMPATHY + "Our engineers text before they arrive."),
    ("self_promotion", EMPATHY + "We could have you connected by Friday."),
    ("follow_request", EMPATHY + "Follow us for live outage updates."),
    ("follow_request", EMPATHY + "Give us a follow and we'll keep you posted."),
    ("own_hashtag", EMPATHY + "#Northwind"),
    ("own_hashtag", EMPATHY + "#SwitchToNorthwind"),
    ("disparages_competitor", EMPATHY + "Telvana is a joke, honestly."),
    ("disparages_competitor", EMPATHY + "Typical Telvana."),
    ("disparages_competitor", EMPATHY + "Those crooks do it to everyone."),
    ("legal_threat", EMPATHY + "I'd get a lawyer onto them."),
    ("legal_threat", EMPATHY + "Take them to small claims court."),
    ("no_reference_to_problem", "Hi there! Have a lovely weekend."),
    ("threat", EMPATHY + "Or else."),
    ("arguing", EMPATHY + "Actually, you're wrong about that."),
    ("blames_customer", EMPATHY + "You should have read the contract."),
    ("delete_request", EMPATHY + "Please delete this post."),
    ("placeholder", "Sorry about the outage, {first_name}. Hope it's back soon."),
    ("placeholder", "Sorry about the outage, [NAME]. Hope it's back soon."),
]


@pytest.mark.parametrize(("code", "text"), BLOCKS)
def test_a_first_competitor_reply_with_the_signal_blocks(code: str, text: str) -> None:
    # When the reply carries the signal
    codes = blocking_codes(text, competitor())

    # Then it blocks with that code
    assert code in codes


ALLOWED = [
    ("own_brand_named", EMPATHY + "The north wind knocked a mast over here too."),
    ("link", EMPATHY + "Sorry, i.e. the whole day gone. Hope it's back soon."),
    ("price", EMPATHY + "Enjoy the free time if you can."),
    ("discount", "Sorry, a save-the-date for an engineer who never comes is the worst."),
    ("offer", EMPATHY + "Hope they offer you an apology at least."),
    (
        "promo_code",
        EMPATHY + "An error code on the router usually means the line, hope it's quick.",
    ),
    ("call_to_action", EMPATHY + "Try again later, hope it works by then."),
    ("call_to_action", EMPATHY + "Switching the router off and on sometimes helps. Hope it does."),
    ("self_promotion", "We're so sorry to hear that. We've all been there. Hope it's back soon."),
    ("follow_request", EMPATHY + "Hope someone follows up with you today."),
    ("own_hashtag", EMPATHY + "#outage"),
    ("disparages_competitor", "Sorry Telvana's outage hit you. That sucks, hope it's back soon."),
    ("legal_threat", EMPATHY + "Hope the courtesy call comes soon."),
    ("no_reference_to_problem", "Working from home with no connection is stressful."),
    ("arguing", "No worries if you'd rather not reply. " + EMPATHY),
    ("blames_customer", EMPATHY + "You shouldn't have to chase them for this."),
    ("delete_request", EMPATHY + "Hope they remove the charge too."),
]


@pytest.mark.parametrize(("code", "text"), ALLOWED)
def test_a_harmless_look_alike_does_not_block(code: str, text: str) -> None:
    # When the reply only resembles the signal
    codes = blocking_codes(text, competitor())

    # Then that code does not block
    assert code not in codes


def test_the_persons_own_figures_and_words_quoted_back_do_not_block() -> None:
    # Given a post that names a price and says "cheaper"
    post = "Orbix charged me $90 for roaming. I only joined because they said they were cheaper!"
    context = competitor(post_text=post)

    # When the reply quotes them back
    text = '"$90 for roaming" is absurd, and not what "cheaper" means. Sorry, hope they refund it.'

    # Then neither is our price or our discount; a new figure still is
    assert blocking_codes(text, context) == set()
    assert "price" in blocking_codes(text + " Ours is $30.", context)


# --- evasion ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "n o r t h w i n d",
        "n.o.r.t.h.w.i.n.d",
        "N-O-R-T-H-W-I-N-D",
        "N0rthw1nd",
        "N0RTHW1ND",
        "n0r7hw1nd",
        "Nоrthwіnd",  # Cyrillic o and i
        "Νorthwind",  # Greek capital Nu
        "Ｎｏｒｔｈｗｉｎｄ",  # fullwidth
        "𝐍𝐨𝐫𝐭𝐡𝐰𝐢𝐧𝐝",  # mathematical bold
        "ɴᴏʀᴛʜᴡɪɴᴅ",  # small capitals
        "Nor\u200bthw\u200dind",  # zero-width space and joiner
        "Northwínd",  # accent
        "North-wind",
        "NORTH WIND",
        "N W Unlimited",
        "NW-Unlimited",
        "@northwind_help",
    ],
)
def test_our_name_is_found_however_it_is_disguised(name: str) -> None:
    # When our name is disguised
    text = f"{EMPATHY}{name} would never do that."

    # Then it is still named, and the span covers the disguised name in the original text
    found = [f for f in check_reply(text, competitor()) if f.code == "own_brand_named"]
    assert found, name
    start, end = found[0].start, found[0].end
    assert text[start:end].strip("@").startswith(name.strip("@")[:1])
    assert text.index(name) <= start and end <= text.index(name) + len(name)


@pytest.mark.parametrize(
    "link",
    [
        "northwind dot com",
        "fibrecheck (dot) io",
        "fibrecheck[.]io",
        "fibrecheck . com",
        "fibrecheck{dot}net",
        "bit.ly/abc123",
        "t.co/x8Fq2LmN",
        "tinyurl.com/fast",
        "ow.ly/4nXy6",
        "www.example.org",
        "hxxps://example.org",
        "h t t p s : / / fixmyline.org",
        "example.io",
        "link in bio",
        "[click](https://example.org)",
    ],
)
def test_links_are_found_however_they_are_written(link: str) -> None:
    # When the reply carries a disguised link
    codes = blocking_codes(f"{EMPATHY}More at {link}", competitor())

    # Then it blocks as a link
    assert "link" in codes


@pytest.mark.parametrize(
    "money",
    [
        "$25",
        "25$",
        "€19",
        "£9.99",
        "¥2000",
        "25 dollars",
        "30 bucks",
        "twenty quid",
        "19 euros",
        "15/mo",
        "20 per month",
        "9.99 a month",
        "＄25",  # fullwidth dollar
    ],
)
def test_prices_are_found_in_symbols_and_words(money: str) -> None:
    # When the reply names a price the person did not mention
    codes = blocking_codes(f"{EMPATHY}Fibre is {money} elsewhere.", competitor())

    # Then it blocks as a price
    assert "price" in codes


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("10 percent off for you", "discount"),
        ("20% OFF", "discount"),
        ("half price for three months", "discount"),
        ("promo code: SAVE20", "promo_code"),
        ("p r o m o c o d e SAVE20", "promo_code"),
        ("enter code WELCOME at checkout", "promo_code"),
        ("Quote NOWIFI when you call", "promo_code"),
        ("f o l l o w us", "follow_request"),
        ("ＤＭ us", "call_to_action"),
    ],
)
def test_discounts_codes_and_requests_survive_spacing_and_width_tricks(
    text: str, code: str
) -> None:
    # When the signal is disguised
    codes = blocking_codes(f"{EMPATHY}{text}.", competitor())

    # Then it is still found
    assert code in codes


def test_competitor_name_in_leetspeak_is_still_disparaged() -> None:
    # When the competitor is insulted under a disguised name
    codes = blocking_codes(EMPATHY + "T3lv4na is a joke.", competitor())

    # Then it blocks
    assert "disparages_competitor" in codes


def test_the_competitor_named_neutrally_is_fine() -> None:
    # When the competitor is named without judgement
    text = "Sorry Telvana's outage hit you, and that Orbix Flex users nearby had it too."

    # Then nothing blocks
    assert blocking_codes(text, competitor()) == set()


# --- spans ------------------------------------------------------------------------------


def test_spans_point_at_the_original_text_after_normalising() -> None:
    # Given a reply whose link is written with fullwidth letters and a zero-width space
    prefix = "Sorry, ugh. Ｓｅｅ "
    disguised = "bit\u200b.ly/ａｂｃ"
    text = prefix + disguised + " for more"

    # When it is checked
    link = next(f for f in check_reply(text, competitor()) if f.code == "link")

    # Then the span starts at the disguised link in the original string
    assert link.start == len(prefix)
    assert text[link.start : link.end].startswith("bit")
    assert link.end <= len(prefix) + len(disguised)


def test_spans_cover_the_spaced_out_name() -> None:
    text = "Sorry! n o r t h w i n d is better"
    found = next(f for f in check_reply(text, competitor()) if f.code == "own_brand_named")
    assert text[found.start : found.end] == "n o r t h w i n d"


def test_findings_are_frozen_and_sorted_by_position() -> None:
    text = "Follow us! Telvana is a joke. Use code X1234 at northwind.com"
    findings = check_reply(text, competitor())
    assert findings == sorted(findings, key=lambda f: (f.start, f.end, f.code))
    with pytest.raises(dataclasses.FrozenInstanceError):
        findings[0].code = "x"  # type: ignore[misc]
    assert all(isinstance(f, Finding) and 0 <= f.start <= f.end <= len(text) for f in findings)


def test_a_longer_term_swallows_the_shorter_one_it_contains() -> None:
    text = EMPATHY + "Northwind Fibre is fast."
    named = [f for f in check_reply(text, competitor()) if f.code == "own_brand_named"]
    assert len(named) == 1 and text[named[0].start : named[0].end] == "Northwind Fibre"


# --- playbooks ---------------------------------------------------------------------------


def test_own_brand_reply_with_a_contact_route_and_a_link_is_fine() -> None:
    # When we answer our own customer with an apology, a DM and a support link
    text = (
        "Sorry, two days is not acceptable. Please DM us your account number or use "
        "https://northwind.example/help and we'll book an engineer."
    )

    # Then nothing is reported: links and our name are expected here
    assert check_reply(text, own_brand()) == []


def test_own_brand_first_reply_must_offer_a_private_channel() -> None:
    findings = check_reply("We're so sorry about the outage.", own_brand())
    assert [(f.code, f.blocking) for f in findings] == [("no_contact_route", True)]


def test_a_later_own_brand_reply_without_a_contact_route_gets_a_warning_only() -> None:
    later = dataclasses.replace(own_brand(), first_reply=False)
    findings = check_reply("Glad it's working again. Thanks for bearing with us.", later)
    patterns = [(f.code, f.blocking) for f in findings if f.source == "pattern"]
    assert patterns == [("no_contact_route", False)]
    assert not [f for f in findings if f.blocking]  # the model may add a warning, never a block


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("threat", "DM us. If you keep posting like this we will have your account suspended."),
        ("threat", "Email us. Be careful what you post about us."),
        ("arguing", "That's simply not true, the fee was in your contract. DM us."),
        ("arguing", "Calm down, it's within normal queue times. Use live chat."),
        ("blames_customer", "If you had read the bill you'd have seen it. DM us."),
        ("blames_customer", "Sorry. It's because you didn't confirm the slot. DM us."),
        ("delete_request", "Sorry. Please DM us, and could you delete this post?"),
        ("delete_request", "Sorry. Would you mind taking this post down? DM us."),
        ("legal_threat", "Your post is defamatory. Email us."),
    ],
)
def test_own_brand_hostility_blocks(code: str, text: str) -> None:
    assert code in blocking_codes(text, own_brand())


def test_asking_to_amend_the_post_blocks_a_first_reply_but_not_after_resolution() -> None:
    text = "Glad it's fixed! Would you consider updating your post? DM us anytime."
    assert "delete_request" in blocking_codes(text, own_brand())
    assert "delete_request" not in all_codes(text, own_brand(first_reply=False))


def test_sales_signals_are_warnings_once_the_person_has_engaged() -> None:
    # Given a competitor's customer who replied and asked about our plans
    text = "Thanks for asking! Northwind Fibre is £25/mo, details at northwind.com."

    # When we answer in the engaged conversation
    findings = check_reply(text, competitor(first_reply=False))

    # Then the sales signals are reported but none blocks
    assert {"own_brand_named", "price", "link"} <= {f.code for f in findings}
    assert blocking(findings) == []


def test_hostility_blocks_on_every_reply_of_both_playbooks() -> None:
    text = "Sorry, but honestly you're wrong."
    assert "arguing" in blocking_codes(text, competitor(first_reply=False))
    assert "arguing" in blocking_codes(text, own_brand(first_reply=False))


def test_sales_signals_do_not_block_own_brand_replies() -> None:
    text = "Sorry! DM us, and check out northwind.com/status for live updates."
    assert blocking_codes(text, own_brand()) == set()


def test_unknown_playbook_raises_value_error() -> None:
    with pytest.raises(ValueError, match="playbook"):
        ReplyContext(playbook="retail", own_terms=OWN, competitor_terms=COMPETITORS)


def test_a_context_forced_into_an_unknown_playbook_is_refused_by_check_reply() -> None:
    context = competitor()
    object.__setattr__(context, "playbook", "retail")
    with pytest.raises(ValueError, match="playbook"):
        check_reply("Sorry about the outage.", context)


def test_unknown_length_unit_raises_value_error() -> None:
    with pytest.raises(ValueError, match="length unit"):
        competitor(length_unit="bytes")


def test_terms_given_as_a_bare_string_are_refused() -> None:
    with pytest.raises(ValueError, match="own_terms"):
        ReplyContext(playbook="competitor", own_terms="Northwind", competitor_terms=())


def test_empty_terms_and_no_post_still_check_the_rest() -> None:
    context = ReplyContext(playbook="competitor", own_terms=(), competitor_terms=("",))
    assert "link" in blocking_codes("Sorry about that. See bit.ly/x", context)
    assert blocking_codes("Sorry about the outage, hope it's back soon.", context) == set()


# --- "refers to the problem" -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Three calls and three answers, and still nothing working from home.",  # words of the post
        "That sounds frustrating.",
        "Hope it gets sorted soon.",
        "What a nightmare.",
    ],
)
def test_a_reply_that_acknowledges_the_problem_passes(text: str) -> None:
    assert "no_reference_to_problem" not in all_codes(text, competitor())


@pytest.mark.parametrize(
    "text", ["Nice profile picture!", "Hi! We're a friendly bunch.", "Have a great weekend."]
)
def test_a_reply_that_ignores_the_problem_blocks(text: str) -> None:
    assert "no_reference_to_problem" in blocking_codes(text, competitor())


# --- warnings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SO SORRY THIS IS AWFUL, hope it's back soon", "shouting"),
        ("Sorry about the outage!!! Hope it's back soon", "exclamation_run"),
        ("Sorry! About! The! Outage! Hope it's back soon", "exclamation_run"),
        ("Sorry about the outage 😢😢😢 hope it's back soon", "emoji_run"),
        ("Sorry about the outage 👩‍💻🛠️🔌 hope it's back soon", "emoji_run"),
    ],
)
def test_style_problems_are_warnings_not_blocks(text: str, code: str) -> None:
    findings = [f for f in check_reply(text, competitor()) if f.code == code]
    assert findings and not findings[0].blocking


@pytest.mark.parametrize(
    "text",
    [
        "Sorry about the outage, hope it's back soon. ISP support on a Monday, ugh.",
        "Sorry about the outage! Hope it's back soon 🙏",
        "Sorry about the outage 😢 hope it's back 🙏 soon 🤞",
    ],
)
def test_ordinary_style_has_no_warnings(text: str) -> None:
    # The patterns say nothing; the model may point at something (a warning), never block.
    findings = check_reply(text, competitor())
    assert {f.code for f in findings if f.source == "pattern"} == set()
    assert not any(f.blocking for f in findings)


def test_a_template_sent_unchanged_is_a_warning_but_an_edited_one_is_not() -> None:
    template = "Sorry to hear about this. Hope it gets sorted soon."
    context = competitor(templates=(template,))
    unchanged = check_reply("sorry to hear about this!  Hope it gets sorted soon", context)
    edited = check_reply("Sorry to hear about the outage on a work day. Hope it's sorted.", context)
    assert [(f.code, f.blocking) for f in unchanged] == [("unchanged_template", False)]
    assert "unchanged_template" not in {f.code for f in edited}


# --- length, empty and huge input ------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u200b", "\n\t"])
def test_empty_text_blocks(text: str) -> None:
    findings = check_reply(text, competitor())
    assert [(f.code, f.blocking) for f in findings] == [("empty", True)]


def test_over_the_platform_length_blocks_and_points_past_the_limit() -> None:
    text = "Sorry about the outage, hope it's back soon. " * 5
    findings = [f for f in check_reply(text, competitor(max_length=100)) if f.code == "too_long"]
    assert findings and findings[0].blocking and findings[0].start == 100
    assert "too_long" not in all_codes(text, competitor(max_length=len(text)))


def test_a_platform_without_replies_blocks_every_reply() -> None:
    assert "too_long" in blocking_codes("Sorry, hope it's back soon.", competitor(max_length=0))


def test_length_is_measured_in_the_platform_unit() -> None:
    # "👩‍👩‍👧" is 5 code points, 1 grapheme, weight 2 on X
    text = "Sorry 👩‍👩‍👧"
    assert "too_long" in blocking_codes(text, competitor(max_length=7))
    assert "too_long" not in all_codes(text, competitor(max_length=7, length_unit="graphemes"))
    assert "too_long" not in all_codes(text, competitor(max_length=8, length_unit="weighted"))


def test_huge_text_is_blocked_without_being_read_to_the_end() -> None:
    text = "Sorry about the outage, hope it's back soon. " * 50_000 + "bit.ly/x"
    findings = check_reply(text, competitor())
    too_long = [f for f in findings if f.code == "too_long"]
    assert too_long and all(f.blocking for f in too_long)
    assert max(f.end for f in findings) == len(text)


def test_hostile_markup_is_just_text() -> None:
    text = (
        '<script>alert("x")</script> Sorry \u202eecnatsid\u202c about the outage <b>hope</b> soon'
    )
    findings = check_reply(text, competitor())
    assert all(0 <= f.start <= f.end <= len(text) for f in findings)


def test_non_string_text_is_refused() -> None:
    with pytest.raises(TypeError):
        check_reply(None, competitor())  # type: ignore[arg-type]


# --- measure_length ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("hello", "characters", 5),
        ("héllo", "graphemes", 5),
        ("he\u0301llo", "characters", 6),
        ("he\u0301llo", "graphemes", 5),
        ("🇬🇧", "graphemes", 1),
        ("hello", "weighted", 5),
        ("日本", "weighted", 4),
        ("👍🏽", "weighted", 2),
        ("see https://example.org/a/very/long/path/that/goes/on", "weighted", 4 + 23),
        ("see example.com", "weighted", 4 + 23),
        ("", "weighted", 0),
    ],
)
def test_measure_length(text: str, unit: str, expected: int) -> None:
    assert measure_length(text, unit) == expected


def test_measure_length_refuses_an_unknown_unit() -> None:
    with pytest.raises(ValueError):
        measure_length("x", "bytes")


# --- quality on the evaluation set ----------------------------------------------------------------


def _eval_rows() -> list[dict[str, object]]:
    return [json.loads(line) for line in EVAL_FILE.read_text("utf-8").splitlines() if line]


def test_the_evaluation_set_is_large_balanced_and_covers_every_blocking_code() -> None:
    rows = _eval_rows()
    good = [r for r in rows if r["expect_ok"]]
    assert len(rows) >= 240
    assert 0.4 <= len(good) / len(rows) <= 0.6
    assert len({r["id"] for r in rows}) == len(rows)
    expected = {c for r in rows for c in r["expect_blocking"]}  # type: ignore[attr-defined]
    assert expected >= (SALES_CODES - {"self_promotion"}) | (
        ALWAYS_BLOCKING - {"empty", "placeholder"}
    )
    assert {r["playbook"] for r in rows} == {"competitor", "own_brand"}
    assert len({r["platform"] for r in rows}) >= 4


def test_the_guard_blocks_bad_replies_and_lets_good_ones_through_on_the_evaluation_set() -> None:
    # Given the hand-labelled replies
    rows = _eval_rows()

    # When each is checked in its own context
    blocked: dict[str, bool] = {}
    for row in rows:
        context = ReplyContext(
            playbook=str(row["playbook"]),
            own_terms=row["own_terms"],  # type: ignore[arg-type]
            competitor_terms=row["competitor_terms"],  # type: ignore[arg-type]
            post_text=str(row.get("post_text", "")),
            max_length=int(row["max_length"]),  # type: ignore[call-overload]
            length_unit=str(row["length_unit"]),
        )
        blocked[str(row["id"])] = bool(blocking(check_reply(str(row["text"]), context)))

    # Then at least 95% of the bad ones block and at most 5% of the good ones do
    bad = [str(r["id"]) for r in rows if not r["expect_ok"]]
    good = [str(r["id"]) for r in rows if r["expect_ok"]]
    blocked_bad = sum(blocked[i] for i in bad) / len(bad)
    blocked_good = sum(blocked[i] for i in good) / len(good)
    assert blocked_bad >= 0.95, [i for i in bad if not blocked[i]]
    assert blocked_good <= 0.05, [i for i in good if blocked[i]]
