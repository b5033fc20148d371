"""The tone guard's rules: one row per finding code, the only place a code is declared.

Each ``Rule`` names its code, the message shown to the reviewer, how much it
weighs on each playbook's first and later replies, and the finder that looks for
it. ``CODES``, the severity sets, the code table in the package's documentation
and the guard's loop are all built from ``RULES``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import regex

from outreach.tone import lexicon as lx
from outreach.tone.normalise import normalise
from outreach.tone.reply import Hit, Reply, ReplyContext, measure_length
from outreach.tone.terms import competitor_judgement, skeleton


class Severity(enum.Enum):
    """What a rule's findings do to a reply."""

    BLOCKS = "blocks"
    WARNS = "warns"
    UNCHECKED = "-"  # the rule does not apply: its finder is not run


class Weight(NamedTuple):
    """A rule's severity on the (first reply, later reply) of each playbook."""

    competitor: tuple[Severity, Severity]
    own_brand: tuple[Severity, Severity]

    def cells(self) -> tuple[Severity, ...]:
        """The four severities: competitor first and later, own brand first and later."""
        return (*self.competitor, *self.own_brand)


@dataclass(frozen=True)
class Rule:
    """One finding code: its message, its weight per playbook and reply, and its finder."""

    code: str
    message: str
    weight: Weight
    find: Callable[[Reply], Iterable[Hit]]
    on_blank: bool = False  # also looked for when there is nothing to send
    # Rules 2 and 3's hard signals (links, prices, codes, our name): a reviewer can
    # never overrule them, and quoting them from the post does not excuse them.
    firm: bool = False
    # A finding for something missing ("no reference to the problem"): it can only
    # block where the lexicon reads the reply's language; elsewhere it warns.
    reads_language: bool = False

    def severity(self, context: ReplyContext) -> Severity:
        """How findings of this rule weigh on a reply under ``context``."""
        pair = self.weight.competitor if context.playbook == "competitor" else self.weight.own_brand
        return pair[0] if context.first_reply else pair[1]

    def weigh(self, reply: Reply) -> Severity:
        """``severity`` for this reply: a missing thing only warns in an unread language."""
        severity = self.severity(reply.context)
        if severity is Severity.BLOCKS and self.reads_language and not reply.covered:
            return Severity.WARNS
        return severity


# --------------------------------------------------------------------------- finders


_Source = tuple[regex.Pattern[str], str, Callable[[regex.Match[str]], bool] | None]


def _unique(reply: Reply, sources: Iterable[_Source]) -> Iterator[Hit]:
    """Hits for (pattern, view text, skip) sources, each span of the view once."""
    seen: set[tuple[int, int]] = set()
    for pattern, text, skip in sources:
        for m in reply.matches(pattern, text):
            if (skip is None or not skip(m)) and (m.start(), m.end()) not in seen:
                seen.add((m.start(), m.end()))
                yield reply.at(m.start(), m.end())


def _spans(
    reply: Reply,
    *patterns: regex.Pattern[str],
    skip: Callable[[regex.Match[str]], bool] | None = None,
) -> Iterator[Hit]:
    """Hits for the matches of ``patterns`` in the normalised text, each span once."""
    return _unique(reply, [(p, reply.norm, skip) for p in patterns])


def _matching(*patterns: regex.Pattern[str]) -> Callable[[Reply], Iterable[Hit]]:
    """A finder for rules that are their patterns and nothing more."""
    return lambda reply: _spans(reply, *patterns)


# Advice about the competitor's own options ("ask Voltera whether a fixed tariff is
# cheaper, worth a try"): soft sales words in a sentence that names the competitor.
_SOFT = regex.compile(
    r"^(?:worth\b|cheaper|better\s+rate|lower\s+rate|price\s+match|trial|free\s+trial)"
)


def _about_competitor(reply: Reply) -> Callable[[regex.Match[str]], bool]:
    """A skip for soft matches in a sentence that names a competitor."""

    def skip(m: regex.Match[str]) -> bool:
        if not _SOFT.match(m.group(0)):
            return False
        names = [start for start, _end, _t in reply.terms(reply.context.competitor_terms)]
        norm = reply.norm
        begin = max(norm.rfind(c, 0, m.start()) for c in ".!?\n") + 1
        ends = [i for c in ".!?\n" if (i := norm.find(c, m.end())) >= 0]
        end = min(ends) if ends else len(norm)
        return any(begin <= start < end for start in names)

    return skip


def _own_brand_named(reply: Reply) -> Iterator[Hit]:
    for start, end, term in reply.terms(reply.context.own_terms):
        yield reply.at(start, end, repr(term))


def _own_hashtag(reply: Reply) -> Iterator[Hit]:
    # Any hashtag built on one of our tags or terms (#Northwind, #SwitchToNorthwind).
    context = reply.context
    skeletons = {s for t in (*context.own_hashtags, *context.own_terms) if (s := skeleton(t))}
    for m in lx.HASHTAG.finditer(reply.leet):
        body = regex.sub(r"[\W_]+", "", m.group(1))
        if any(s in body for s in skeletons):
            yield reply.at(m.start(), m.end())


def _price(reply: Reply) -> Iterator[Hit]:
    post_amounts = set(regex.findall(lx.NUM, reply.post))

    def quoted(m: regex.Match[str]) -> bool:
        # The customer's own figure, echoed back ("a $90 surprise bill"), is
        # acknowledgement, not our price.
        amounts = regex.findall(lx.NUM, m.group(0))
        return bool(amounts) and all(a in post_amounts for a in amounts)

    return _spans(reply, lx.PRICE, skip=quoted)


def _discount(reply: Reply) -> Iterator[Hit]:
    about_competitor = _about_competitor(reply)

    def echoed(m: regex.Match[str]) -> bool:
        # "Cheaper" is their word when the post says it.
        if regex.search(r"\bcheaper\b", m.group(0)) is not None and "cheaper" in reply.post:
            return True
        return about_competitor(m)

    return _spans(reply, lx.DISCOUNT, skip=echoed)


def _offer(reply: Reply) -> Iterator[Hit]:
    about_competitor = _about_competitor(reply)

    def echoed(m: regex.Match[str]) -> bool:
        # "After cancelling a trial": the person's own trial, named in the post.
        if m.group(0) == "trial" and regex.search(r"\btrial\b", reply.post) is not None:
            return True
        return about_competitor(m)

    return _spans(reply, lx.OFFER, skip=echoed)


def _legal_threat(reply: Reply) -> Iterator[Hit]:
    # "court" is everyday French (it runs on, it is short); elsewhere it is a law court.
    french = reply.language == "fr"
    return _spans(reply, lx.LEGAL, skip=lambda m: french and m.group(0) == "court")


def _promo_code(reply: Reply) -> Iterator[Hit]:
    def other_code(m: regex.Match[str]) -> bool:
        # "the email with the code", "error code: 0x80070005": not a promo code.
        return lx.NOT_PROMO.search(reply.norm[max(0, m.start() - 40) : m.start()]) is not None

    def echoed(m: regex.Match[str]) -> bool:
        # "a voucher you didn't ask for": the person's own voucher, named in the post.
        return regex.search(r"\b(?:voucher|coupon)", reply.post) is not None

    yield from _spans(reply, lx.PROMO, skip=other_code)
    yield from _spans(reply, lx.VOUCHER, skip=echoed)
    # A code in capitals ("quote NOWIFI") is only visible in the original text.
    for m in lx.PROMO_TOKEN.finditer(reply.head):
        yield Hit(m.start(), m.end(), repr(m.group(0)))
    for m in lx.CODE_TOKEN.finditer(reply.head):
        lead = reply.head[max(0, m.start() - 40) : m.start()]
        if not lx.NOT_PROMO.search(lead):
            yield Hit(m.start(), m.end(), repr(m.group(0)))


def _call_to_action(reply: Reply) -> Iterator[Hit]:
    # A verb of action right before our own name ("come to Northwind").
    for start, end, _term in reply.terms(reply.context.own_terms):
        lead = lx.CTA_BEFORE_BRAND.search(reply.norm[max(0, start - 30) : start])
        if lead:
            yield reply.at(start - len(lead.group(0)), end)
    yield from _spans(reply, lx.CTA, skip=_about_competitor(reply))


def _disparages_competitor(reply: Reply) -> Iterable[Hit]:
    def echoes_post(m: regex.Match[str]) -> bool:
        # Repeating the person's own word ("'typical', as you say") is not our insult.
        word = m.group(0).strip()
        return len(word) >= 4 and bool(regex.search(r"\b" + regex.escape(word) + r"\b", reply.post))

    sources: list[_Source] = [
        (lx.INSULTS, reply.norm, echoes_post),
        (lx.SUBJECT_JUDGEMENT, reply.norm, None),
    ]
    judgement = competitor_judgement(tuple(reply.context.competitor_terms))
    if judgement is not None:
        # Judged on the normal text with competitor names in their leet form, so that
        # "T3lvana is a joke" is caught while "useless" keeps its letters.
        hybrid = list(reply.norm)
        for start, end, _term in reply.terms(reply.context.competitor_terms):
            hybrid[start:end] = reply.leet[start:end]
        sources.append((judgement, "".join(hybrid), None))
    return _unique(reply, sources)


def _blames_customer(reply: Reply) -> Iterator[Hit]:
    def quotes_post(m: regex.Match[str]) -> bool:
        # "Being told it's on your side" repeats what the person was told ("on my
        # side"): quoting their words back is sympathy, not blame.
        mine = regex.sub(r"\byour\b", "my", regex.sub(r"\byou\b", "i", m.group(0)))
        core = regex.sub(r"^(?:it's|its|it\s+is|that's|probably|likely)\s+", "", mine)
        if bool(reply.post) and core in reply.post:
            return True
        # "...and then being told it's on you": what somebody else said, in the same
        # sentence, repeated in sympathy.
        sentence = regex.split(r"[.!?]", reply.norm[max(0, m.start() - 80) : m.start()])[-1]
        return lx.REPORTED.search(sentence) is not None

    return _spans(reply, lx.BLAMES, skip=quotes_post)


def _delete_request(reply: Reply) -> Iterator[Hit]:
    # Asking to amend the post is only acceptable once the person has engaged; asking
    # to delete it never is, nor wishing it gone. "No need to delete it" asks nothing.
    def not_asking(m: regex.Match[str]) -> bool:
        lead = reply.norm[max(0, m.start() - 40) : m.start()]
        if lx.NOT_ASKING.search(lead) is not None:
            return True
        # "DM us and we'll remove it": our own doing, not a request to the person.
        return m.re is lx.DELETE and lx.OUR_DOING.search(lead) is not None

    patterns = (lx.DELETE, lx.GONE, lx.AMEND) if reply.context.first_reply else (lx.DELETE, lx.GONE)
    return _spans(reply, *patterns, skip=not_asking)


def _no_disclosure(reply: Reply) -> Iterator[Hit]:
    # From a staff member's personal account the reply says who they work for: the
    # playbook's wording with any of our terms, or "I work at ..." near one of them.
    context = reply.context
    if not context.personal_account or reply.blank:
        return
    own = [t for t in context.own_terms if t.strip()]
    norm = reply.norm
    for term in own or [""]:
        wording = normalise(context.disclosure.replace("{brand}", term)).text.strip()
        if wording and " ".join(wording.split()) in " ".join(norm.split()):
            return
    terms = reply.terms(own)
    for m in lx.DISCLOSURE.finditer(norm):
        if not own or any(
            abs(start - m.end()) < 80 or abs(m.start() - end) < 80 for start, end, _t in terms
        ):
            return
    wording = context.disclosure.replace("{brand}", own[0] if own else "...")
    yield Hit(0, len(reply.text), f"say who you work for, e.g. {wording!r}")


def _language_unchecked(reply: Reply) -> Iterator[Hit]:
    if not reply.blank and not reply.covered:
        yield Hit(0, len(reply.text), f"detected {reply.language!r}; read it yourself")


def _placeholder(reply: Reply) -> Iterator[Hit]:
    for m in lx.PLACEHOLDER.finditer(reply.head):
        yield Hit(m.start(), m.end(), repr(m.group(0)))


def _too_long(reply: Reply) -> Iterator[Hit]:
    text, context, limit = reply.text, reply.context, reply.limit
    if len(text) > limit:
        yield Hit(limit, len(text), f"only the first {limit} characters were checked")
    if reply.blank:
        return
    # Length is measured on what would be sent.
    if context.max_length <= 0:
        yield Hit(0, len(text), "this platform does not allow replies")
    elif len(text) <= limit:
        length = measure_length(text, context.length_unit)
        if length > context.max_length:
            start = context.max_length if context.length_unit == "characters" else 0
            detail = f"{length} {context.length_unit}, limit {context.max_length}"
            yield Hit(start, len(text), detail)


def _empty(reply: Reply) -> Iterator[Hit]:
    if reply.blank:
        yield Hit(0, len(reply.text))


def _content_stems(normalised: str, exclude: set[str]) -> set[str]:
    stems = set()
    for word in regex.findall(r"[a-z][a-z'-]{3,}", normalised):
        word = word.strip("'-")
        if len(word) < 4 or word in lx.STOPWORDS or word in exclude:
            continue
        stems.add(word[:5])  # a five-letter prefix is a crude but language-agnostic stem
    return stems


def _no_reference_to_problem(reply: Reply) -> Iterator[Hit]:
    norm = reply.norm
    refers = bool(lx.EMPATHY.search(norm)) or bool(lx.PROBLEM_WORDS.search(norm))
    if not refers and reply.context.post_text:
        # Words of the post said back (minus brand names) acknowledge it too.
        brand_words: set[str] = set()
        for t in (*reply.context.own_terms, *reply.context.competitor_terms):
            brand_words.update(regex.findall(r"[a-z0-9]+", normalise(t).text))
        refers = bool(_content_stems(norm, brand_words) & _content_stems(reply.post, brand_words))
    if not refers:
        yield Hit(0, len(reply.text), "say you heard what went wrong")


def _no_contact_route(reply: Reply) -> Iterator[Hit]:
    # The own-brand reply moves the conversation to a private channel.
    if not lx.CONTACT_ROUTE.search(reply.norm):
        yield Hit(0, len(reply.text), "offer DM, email, phone or a support link")


def _shouting(reply: Reply) -> Iterator[Hit]:
    text = reply.head
    run: list[regex.Match[str]] = []
    best: list[regex.Match[str]] = []
    for w in regex.finditer(r"\b[\p{L}']+\b", text):
        letters = [c for c in w.group(0) if c.isalpha()]
        if len(letters) >= 2 and all(c.isupper() for c in letters):
            run.append(w)
        elif len(letters) == 1 and run and letters[0].isupper():
            run.append(w)  # "A" or "I" inside a capital run does not break it
        else:
            if len(run) > len(best):
                best = run
            run = []
    if len(run) > len(best):
        best = run
    if len(best) >= 3 and sum(len(m.group(0)) for m in best) >= 10:
        yield Hit(best[0].start(), best[-1].end())
        return
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 20 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        yield Hit(0, len(text))


def _exclamation_run(reply: Reply) -> Iterator[Hit]:
    run = lx.EXCLAIM_RUN.search(reply.head)
    if run:
        yield Hit(run.start(), run.end())
        return
    marks = [m.start() for m in regex.finditer(lx.BANG, reply.head)]
    if len(marks) >= 4:
        yield Hit(marks[0], marks[-1] + 1, f"{len(marks)} of them")


def _emoji_run(reply: Reply) -> Iterator[Hit]:
    emoji = lx.EMOJI_RUN.search(reply.head)
    if emoji:
        yield Hit(emoji.start(), emoji.end())


def _squash(text: str) -> str:
    """Text reduced for template comparison: normalised, letters and digits only."""
    return regex.sub(r"[\W_]+", " ", normalise(text).text).strip()


def _unchanged_template(reply: Reply) -> Iterator[Hit]:
    templates = [t for t in reply.context.templates if t.strip()]
    if templates and any(_squash(reply.head) == _squash(t) for t in templates):
        yield Hit(0, len(reply.text))


# --------------------------------------------------------------------------- the table

B, W, U = Severity.BLOCKS, Severity.WARNS, Severity.UNCHECKED
# Sales signals block a first reply to a competitor's customer and are warnings once
# the person has engaged; own-brand replies are not checked for them.
SALES = Weight(competitor=(B, W), own_brand=(U, U))
ALWAYS = Weight(competitor=(B, B), own_brand=(B, B))
WARNING = Weight(competitor=(W, W), own_brand=(W, W))

RULES: tuple[Rule, ...] = (
    Rule("own_brand_named", "our brand or one of our products is named",
         SALES, _own_brand_named, firm=True),
    Rule("link", "a link, bare domain or URL shortener", SALES, _matching(lx.LINK),
         firm=True),
    Rule("price", "a price", SALES, _price, firm=True),
    Rule("discount", "a discount or price reduction", SALES, _discount),
    Rule("offer", "a commercial offer", SALES, _offer),
    Rule("promo_code", "a promo code, coupon or voucher", SALES, _promo_code, firm=True),
    Rule("call_to_action", "a call to action (switch, try, buy, sign up, DM us, check out...)",
         SALES, _call_to_action),
    Rule("self_promotion", "talks about us (we, our, us) to a competitor's customer",
         SALES, _matching(lx.SELF_PROMOTION)),
    Rule("follow_request", "asks the person to follow", SALES, _matching(lx.FOLLOW)),
    Rule("own_hashtag", "one of our hashtags", SALES, _own_hashtag),
    Rule("disparages_competitor", "mocks or insults the competitor",
         ALWAYS, _disparages_competitor),
    Rule("legal_threat", "legal language or a legal threat", ALWAYS, _legal_threat),
    Rule("threat", "a threat against the person", ALWAYS, _matching(lx.THREAT)),
    Rule("arguing", "argues with the person", ALWAYS, _matching(lx.ARGUING)),
    Rule("blames_customer", "blames the person", ALWAYS, _blames_customer),
    Rule("delete_request",
         "asks the person to delete or take down the post (on a first reply: to amend it)",
         ALWAYS, _delete_request),
    Rule("placeholder", "an unfilled template placeholder", ALWAYS, _placeholder),
    Rule("too_long", "longer than the platform allows", ALWAYS, _too_long,
         on_blank=True),
    Rule("empty", "nothing to send", ALWAYS, _empty, on_blank=True),
    # Blocks only where the reply is all about their problem: a competitor's
    # customer's first reply.
    Rule("no_reference_to_problem", "does not acknowledge the person's problem",
         Weight(competitor=(B, W), own_brand=(W, W)), _no_reference_to_problem,
         reads_language=True),
    # The own-brand first reply moves the conversation to a private channel.
    Rule("no_contact_route", "a contact route is expected (DM, email, phone, support link)",
         Weight(competitor=(U, U), own_brand=(B, W)), _no_contact_route, reads_language=True),
    # Only from an account marked as a staff member's personal one (the finder checks).
    Rule("no_disclosure", "sent from a staff member's personal account without saying so",
         ALWAYS, _no_disclosure, reads_language=True),
    Rule("language_unchecked", "not checked in this language", WARNING, _language_unchecked),
    Rule("shouting", "several words in capitals", WARNING, _shouting),
    Rule("exclamation_run", "runs of exclamation marks", WARNING, _exclamation_run),
    Rule("emoji_run", "a run of emoji", WARNING, _emoji_run),
    Rule("unchanged_template", "a playbook template sent unchanged",
         WARNING, _unchanged_template),
)  # fmt: skip

CODES: dict[str, str] = {rule.code: rule.message for rule in RULES}


# Sales signals: they block a first reply to a competitor's customer only.
SALES_CODES = frozenset(r.code for r in RULES if r.weight == SALES)
# Block on every reply of every playbook.
ALWAYS_BLOCKING = frozenset(r.code for r in RULES if r.weight == ALWAYS)
# Never block.
WARNING_CODES = frozenset(r.code for r in RULES if r.weight == WARNING)
# Never overruled, never excused by a quotation.
FIRM_CODES = frozenset(r.code for r in RULES if r.firm)


def code_table() -> str:
    """The codes as a reStructuredText table: message and weight per playbook and reply."""
    head = ("code", "meaning", "competitor 1st", "later", "own brand 1st", "later")
    rows = [(r.code, r.message, *(s.value for s in r.weight.cells())) for r in RULES]
    widths = [max(len(row[i]) for row in (head, *rows)) for i in range(len(head))]
    rule_line = "  ".join("=" * w for w in widths)

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()

    return "\n".join([rule_line, line(head), rule_line, *map(line, rows), rule_line])
