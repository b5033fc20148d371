"""The tone guard: a reply draft in, findings with stable codes out.

Pure: no ORM, no Django. ``check_reply(text, context)`` returns a list of
``Finding``s, each blocking or a warning, each with the span of the ORIGINAL
text that triggered it. Matching runs on a normalised copy of the text (NFKC,
casefold, accents stripped, look-alike letters mapped to Latin, zero-width and
other format characters removed, spaced-out letters joined, "dot com" spelled
out rewritten) and a position map leads every match back to the original.

Codes (stable: the admin, the workflow and the eval set rely on them):

========================  ==========================================================================
code                      meaning
========================  ==========================================================================
own_brand_named           our brand or one of our products is named (competitor playbook, 1st reply)
link                      a URL, bare domain, URL shortener or "link in bio" (competitor, 1st reply)
price                     a price: currency symbol or word next to a number, "/mo", "for free"
discount                  a reduction: "% off", "half price", "discount", "cheaper", "save $"
offer                     an offer: "special offer", "free trial", "first month free", "deal"
promo_code                a promo code, coupon, voucher, referral code or "use code XYZ"
call_to_action            switch, try us, buy, sign up, DM us, check out, come over, "we can help"
self_promotion            talks about us ("we can", "our network", "with us") to their customer
follow_request            asks the person to follow us or someone ("follow us", "give us a follow")
own_hashtag               one of our hashtags (#Northwind, or any hashtag built on our terms)
disparages_competitor     mocks or insults the competitor ("scam", "Telvana strikes again")
legal_threat              legal language: sue, lawyer, legal action, defamation, court
threat                    a threat against the person ("you'll regret", "we will report you")
arguing                   argues with the person ("you're wrong", "that's not true", "calm down")
blames_customer           blames the person ("your fault", "you should have", "read the terms")
delete_request            asks to delete or take down the post (or amend it on a first reply)
placeholder               an unfilled template placeholder such as {name} or [FIRST NAME]
too_long                  longer than the platform allows (in the platform's length unit)
empty                     nothing to send
no_reference_to_problem   never acknowledges the person's problem (blocks on competitor 1st reply)
no_contact_route          own-brand reply offers no private route (DM, email, phone, support link;
                          blocks the first reply, a warning later)
shouting                  several words in capitals (warning)
exclamation_run           runs of exclamation marks, or many of them (warning)
emoji_run                 three or more emoji in a row (warning)
unchanged_template        the text is one of the playbook's templates, unchanged (warning)
========================  ==========================================================================

Which findings block depends on the playbook: on a competitor's customer's first
reply every sales signal blocks; later in an engaged conversation they are
reported as warnings. Hostility towards the person (threats, arguing, blame,
"delete this"), legal threats, disparaging a competitor, placeholders, empty
text and excess length block on every reply of both playbooks.

This is a lexicon guard: precise, but a phrasing it has never seen can slip
through (bench/tone_eval.py measures both). It backs up human approval; it does
not replace it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import regex

PLAYBOOKS = ("competitor", "own_brand")
MAX_CHECKED = 20_000  # characters analysed; longer texts are blocked as too long anyway
LENGTH_UNITS = ("characters", "graphemes", "weighted")

CODES: dict[str, str] = {
    "own_brand_named": "our brand or one of our products is named",
    "link": "a link, bare domain or URL shortener",
    "price": "a price",
    "discount": "a discount or price reduction",
    "offer": "a commercial offer",
    "promo_code": "a promo code, coupon or voucher",
    "call_to_action": "a call to action (switch, try, buy, sign up, DM us, check out...)",
    "self_promotion": "talks about us (we, our, us) to a competitor's customer",
    "follow_request": "asks the person to follow",
    "own_hashtag": "one of our hashtags",
    "disparages_competitor": "mocks or insults the competitor",
    "legal_threat": "legal language or a legal threat",
    "threat": "a threat against the person",
    "arguing": "argues with the person",
    "blames_customer": "blames the person",
    "delete_request": "asks the person to delete, take down or amend the post",
    "placeholder": "an unfilled template placeholder",
    "too_long": "longer than the platform allows",
    "empty": "nothing to send",
    "no_reference_to_problem": "does not acknowledge the person's problem",
    "no_contact_route": "a contact route is expected (DM, email, phone, support link)",
    "shouting": "several words in capitals",
    "exclamation_run": "runs of exclamation marks",
    "emoji_run": "a run of emoji",
    "unchanged_template": "a playbook template sent unchanged",
}

# Sales signals: they block a first reply to a competitor's customer only.
SALES_CODES = frozenset(
    {
        "own_brand_named",
        "link",
        "price",
        "discount",
        "offer",
        "promo_code",
        "call_to_action",
        "self_promotion",
        "follow_request",
        "own_hashtag",
    }
)
# Block on every reply of every playbook.
ALWAYS_BLOCKING = frozenset(
    {
        "disparages_competitor",
        "legal_threat",
        "threat",
        "arguing",
        "blames_customer",
        "delete_request",
        "placeholder",
        "too_long",
        "empty",
    }
)
WARNING_CODES = frozenset({"shouting", "exclamation_run", "emoji_run", "unchanged_template"})


@dataclass(frozen=True)
class ReplyContext:
    """Everything the guard needs to know besides the reply text."""

    playbook: str  # "competitor" | "own_brand"
    own_terms: Sequence[str]
    competitor_terms: Sequence[str]
    post_text: str = ""
    max_length: int = 500  # 0 when the platform does not allow replies
    length_unit: str = "characters"  # "characters" | "graphemes" | "weighted"
    first_reply: bool = True
    templates: Sequence[str] = ()
    own_hashtags: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.playbook not in PLAYBOOKS:
            raise ValueError(f"unknown playbook {self.playbook!r}; expected one of {PLAYBOOKS}")
        if self.length_unit not in LENGTH_UNITS:
            raise ValueError(
                f"unknown length unit {self.length_unit!r}; expected one of {LENGTH_UNITS}"
            )
        # A bare string would be iterated letter by letter: refuse it loudly.
        for name in ("own_terms", "competitor_terms", "templates", "own_hashtags"):
            if isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a sequence of strings, not a string")


@dataclass(frozen=True)
class Finding:
    """One thing the guard noticed; ``start:end`` is a span of the original text."""

    code: str
    blocking: bool
    message: str
    start: int
    end: int


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that stop the reply from being approved."""
    return [f for f in findings if f.blocking]


# --------------------------------------------------------------------------- length


_URL_FOR_LENGTH = regex.compile(
    r"(?:https?://|www\.)[^\s<>\"]+|\b(?:[a-z0-9-]+\.)+(?:com|net|org|io|co|ly|me|app|dev|ai|"
    r"uk|de|fr|eu|us|ca|au|info|biz|tv|gg|xyz|site|online|shop|store|link)\b(?:/[^\s<>\"]*)?",
    regex.IGNORECASE,
)
_EMOJI_GRAPHEME = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")
# twitter-text v3: these code point ranges weigh 1, everything else 2.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _x_weight(grapheme: str) -> int:
    if _EMOJI_GRAPHEME.search(grapheme):
        return 2  # an emoji sequence counts as one emoji, whatever it is built from
    total = 0
    for ch in grapheme:
        cp = ord(ch)
        total += 1 if any(lo <= cp <= hi for lo, hi in _LIGHT_RANGES) else 2
    return total


def measure_length(text: str, unit: str) -> int:
    """Length of ``text`` in ``unit``: code points, grapheme clusters or X's weighted count."""
    if unit == "characters":
        return len(text)
    if unit == "graphemes":
        return len(regex.findall(r"\X", text))
    if unit == "weighted":
        text = unicodedata.normalize("NFC", text)
        total = 0
        last = 0
        for m in _URL_FOR_LENGTH.finditer(text):
            total += sum(_x_weight(g) for g in regex.findall(r"\X", text[last : m.start()]))
            total += 23  # X wraps every URL in a t.co link of fixed weight
            last = m.end()
        total += sum(_x_weight(g) for g in regex.findall(r"\X", text[last:]))
        return total
    raise ValueError(f"unknown length unit {unit!r}; expected one of {LENGTH_UNITS}")


# --------------------------------------------------------------------------- normalising

# Look-alikes that NFKC leaves alone. Applied before casefolding (upper case
# Greek Nu looks like N, lower case nu like v) and again after it.
_CONFUSABLES_UPPER = {
    "\u0410": "A", "\u0412": "B", "\u0415": "E", "\u041a": "K", "\u041c": "M", "\u041d": "H",
    "\u041e": "O", "\u0420": "P", "\u0421": "C", "\u0422": "T", "\u0423": "Y", "\u0425": "X",
    "\u0405": "S", "\u0406": "I", "\u0408": "J", "\u04ae": "Y", "\u051c": "W", "\u0500": "D",
    "\u0548": "N", "\u0391": "A", "\u0392": "B", "\u0395": "E", "\u0396": "Z", "\u0397": "H",
    "\u0399": "I", "\u039a": "K", "\u039c": "M", "\u039d": "N", "\u039f": "O", "\u03a1": "P",
    "\u03a4": "T", "\u03a5": "Y", "\u03a7": "X",
}  # fmt: skip
_CONFUSABLES_LOWER = {
    "\u0430": "a", "\u0432": "b", "\u0435": "e", "\u0451": "e", "\u043a": "k", "\u043c": "m",
    "\u043d": "h", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0442": "t", "\u0443": "y",
    "\u0445": "x", "\u0455": "s", "\u0456": "i", "\u0457": "i", "\u0458": "j", "\u04bb": "h",
    "\u0501": "d", "\u051b": "q", "\u051d": "w", "\u04af": "y", "\u0261": "g", "\u0131": "i",
    "\u0578": "n", "\u057d": "u", "\u0581": "g", "\u0570": "h", "\u0251": "a", "\u0280": "r",
    "\u0274": "n", "\u1d0f": "o", "\u03b1": "a", "\u03b2": "b", "\u03b5": "e", "\u03b7": "n",
    "\u03b9": "i", "\u03ba": "k", "\u03bd": "v", "\u03bf": "o", "\u03c1": "p", "\u03c4": "t",
    "\u03c5": "u", "\u03c7": "x", "\u03c9": "w", "\u03b3": "y", "\u03f2": "c", "\u03f3": "j",
    "\u0142": "l", "\u00f8": "o", "\u0111": "d", "\u0127": "h", "\u00df": "ss", "\u00e6": "ae",
    "\u0153": "oe",
    # Latin small capitals (\u1d00 block), a favourite of filter dodgers.
    "\u1d00": "a", "\u0299": "b", "\u1d04": "c", "\u1d05": "d", "\u1d07": "e", "\ua730": "f",
    "\u0262": "g", "\u029c": "h", "\u026a": "i", "\u1d0a": "j", "\u1d0b": "k", "\u029f": "l",
    "\u1d0d": "m", "\u1d18": "p", "\ua731": "s", "\u1d1b": "t", "\u1d1c": "u", "\u1d20": "v",
    "\u1d21": "w", "\u028f": "y", "\u1d22": "z", "\u2018": "'", "\u2019": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
    "\u2014": "-", "\u2212": "-", "\u00a0": " ", "\u3002": ".", "\uff0e": ".",
}  # fmt: skip


@dataclass
class _View:
    """A transformed copy of the text and, per character, its index in the original."""

    text: str
    pos: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of this view back to a span of the original text."""
        if not self.pos:
            return (0, 0)
        start = min(max(start, 0), len(self.pos) - 1)
        end = min(max(end, start + 1), len(self.pos))
        return (self.pos[start], self.pos[end - 1] + 1)


def _normalise(text: str) -> _View:
    out: list[str] = []
    pos: list[int] = []
    for i, ch in enumerate(text):
        # Format characters (zero-width space/joiner, BOM, soft hyphen, bidi
        # overrides) are invisible: filters must not be split by them.
        if unicodedata.category(ch) == "Cf":
            continue
        for c in unicodedata.normalize("NFKC", ch):
            c = _CONFUSABLES_UPPER.get(c, c)
            for folded in c.casefold():
                for d in unicodedata.normalize("NFD", folded):
                    if unicodedata.combining(d):
                        continue
                    for m in _CONFUSABLES_LOWER.get(d, d):
                        if m.isspace():
                            m = " "
                        out.append(m)
                        pos.append(i)
    return _View("".join(out), pos)


def _rewrite(view: _View, pattern: re.Pattern[str], replace: object) -> _View:
    """Apply a regex substitution to a view, keeping the position map right.

    ``replace`` is a string or a function of the match returning one; the new
    characters all point at the first original character of the match.
    """
    out: list[str] = []
    pos: list[int] = []
    last = 0
    for m in pattern.finditer(view.text):
        out.append(view.text[last : m.start()])
        pos.extend(view.pos[last : m.start()])
        new = replace(m) if callable(replace) else str(replace)
        if new == m.group(0):
            out.append(new)
            pos.extend(view.pos[m.start() : m.end()])
        else:
            # Keep characters that survive in place so spans stay tight.
            anchor = view.pos[m.start()] if m.start() < len(view.pos) else 0
            out.append(new)
            pos.extend([anchor] * len(new))
        last = m.end()
    out.append(view.text[last:])
    pos.extend(view.pos[last:])
    return _View("".join(out), pos)


# Spaced-out letters: three or more single letters/digits split by one to three
# separators ("n o r t h w i n d", "n.o.r.t.h", "f-r-e-e").
_SPACED = re.compile(r"(?<![\w@$])[\w@$](?:[ .\-_*\u00b7/|+~,:]{1,3}[\w@$](?![\w])){2,}")


def _collapse_spaced(view: _View) -> _View:
    out: list[str] = []
    pos: list[int] = []
    last = 0
    for m in _SPACED.finditer(view.text):
        out.append(view.text[last : m.start()])
        pos.extend(view.pos[last : m.start()])
        seps = re.findall(r"[^\w@$]+", m.group(0))
        # "n o r t h w i n d . c o m": a dot among spaces is a real dot.
        keep_dots = any("." in s for s in seps) and not all(s.strip() == "." for s in seps)
        for k in range(m.start(), m.end()):
            c = view.text[k]
            if re.match(r"[\w@$]", c) or (keep_dots and c == "."):
                out.append(c)
                pos.append(view.pos[k])
        last = m.end()
    out.append(view.text[last:])
    pos.extend(view.pos[last:])
    return _View("".join(out), pos)


# Common generic and country TLDs. English words that are also TLDs and turn up
# after a full stop without a space ("fixed.now", "broken.is") are left out.
_TLDS = (
    "com|net|org|io|co|ly|app|dev|ai|uk|de|fr|eu|ca|au|nl|es|ie|nz|za|info|biz|tv|gg|xyz|"
    "site|online|shop|store|link|page|tech|cloud|fibre|fiber|mobi|gl|gd|cc|ws|su|ru|to|help|"
    "support|services|network|digital|email|blog|club|website|space|media|pro|deals|"
    "broadband|mobile|tel|guide|reviews|compare|money"
)
# "northwind dot com", "northwind (dot) com", "northwind[.]com", "northwind d0t c0m"
_SPELLED_DOT = re.compile(
    r"(?<=[a-z0-9])(?:\s*[\(\[\{<]\s*(?:dot|d0t|\.)\s*[\)\]\}>]\s*|\s+(?:dot|d0t)\s+|\s+\.\s+)"
    r"(?=(?:" + _TLDS + r"|c0m)\b)"
)


def _prepare(text: str) -> _View:
    view = _normalise(text)
    view = _collapse_spaced(view)
    view = _rewrite(view, _SPELLED_DOT, ".")
    return view


# Leetspeak, for matching brand terms only: both text and term go through it,
# so "l" and "1" (and "i") become one letter and "Telvana" still matches itself.
_LEET = str.maketrans({"0": "o", "1": "i", "l": "i", "!": "i", "3": "e", "4": "a", "@": "a",
                       "5": "s", "$": "s", "7": "t", "8": "b", "9": "g", "|": "i"})  # fmt: skip


def _leet(text: str) -> str:
    return text.translate(_LEET)


# --------------------------------------------------------------------------- term matching


def _term_pattern(term: str) -> regex.Pattern[str] | None:
    """A pattern for one brand term in the leet view, tolerant of separators inside it."""
    words = [w for w in re.split(r"[^\w@$!|]+", _leet(_normalise(term).text)) if w]
    if not words:
        return None
    parts = []
    for word in words:
        if len(word) >= 5:
            # Long words may be split by up to three separators between letters
            # ("North-wind", "N.o.r.t.h.w.i.n.d"); a lone space is checked later.
            parts.append(r"[\W_]{0,3}".join(regex.escape(c) for c in word))
        elif len(words) > 1:
            # "N-W Unlimited", "N W Unlimited": the other words keep it specific.
            parts.append(r"[\W_]?".join(regex.escape(c) for c in word))
        else:
            parts.append(regex.escape(word))
    body = r"[\W_]{0,3}".join(parts)
    # Long single words also match as prefixes (#NorthwindFibre, @northwind_help,
    # Northwinds); short terms ("NW") need a boundary on both sides.
    tail = "" if len(words) == 1 and len(words[0]) >= 5 else r"(?![a-z0-9])"
    # The left boundary is checked by the caller on the real text: in the leet view
    # "@northwind" reads "anorthwind".
    return regex.compile(body + tail)


_HASHTAG = regex.compile(r"#\s?([\w@$]+(?:[-_][\w@$]+)*)")


def _skeleton(term: str) -> str:
    """A term reduced to leet letters and digits, for substring tests inside hashtags."""
    return regex.sub(r"[\W_]+", "", _leet(_normalise(term.lstrip("#")).text))


def _find_terms(
    view: _View, leet_text: str, terms: Sequence[str], text: str
) -> list[tuple[int, int, str]]:
    """Spans (in the view) where any of ``terms`` occurs."""
    hits: list[tuple[int, int, str]] = []
    for term in terms:
        if not term or not term.strip():
            continue
        pattern = _term_pattern(term)
        if pattern is None:
            continue
        term_words = len([w for w in re.split(r"\W+", term) if w])
        for m in pattern.finditer(leet_text):
            # The left boundary is judged on the real text: "@northwind" and
            # "#northwind" start a word even though "@" is a letter in leet.
            if m.start() > 0 and view.text[m.start() - 1].isalnum():
                continue
            inner = view.text[m.start() : m.end()]
            gaps = re.findall(r"[\W_]+", inner)
            # "the north wind blew" is weather, not our brand: a single plain space
            # inside a one-word term is not enough to call it our name.
            if term_words == 1 and len(gaps) == 1 and gaps[0].isspace():
                # ...unless it is written like a name: "North Wind", "NORTH WIND".
                o_start, o_end = view.span(m.start(), m.end())
                parts = text[o_start:o_end].split()
                if not all(p[:1].isupper() for p in parts) or len(parts) != 2:
                    continue
            hits.append((m.start(), m.end(), term))
    return hits


# --------------------------------------------------------------------------- rules

_F = regex.IGNORECASE | regex.VERSION1


def _rx(*alternatives: str) -> regex.Pattern[str]:
    return regex.compile("|".join(f"(?:{a})" for a in alternatives), _F)


_CURRENCY_WORDS = (
    r"dollars?|bucks|quid|euros?|pounds?|usd|eur|gbp|cents?|pence|yen|rupees?|francs?|"
    r"a\s+month|per\s+month|a\s+mo|per\s+mo|/\s*mo(?:nth)?|pcm|p/m|monthly|a\s+year|per\s+year|"
    r"/\s*yr|/\s*year|a\s+week|per\s+week|/\s*wk"
)
_NUM = r"\d+(?:[.,]\d+)*"
_WORDNUM = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|a\s+hundred|hundred|a\s+few|a\s+couple)"
)
_PRICE = _rx(
    r"[$\u20ac\u00a3\u00a5\u20b9\u20a9\u20bd\u00a2]\s*" + _NUM,
    _NUM + r"\s*[$\u20ac\u00a3\u00a5\u20b9\u20a9\u20bd\u00a2]",
    _NUM + r"\s*(?:k\s+)?(?:" + _CURRENCY_WORDS + r")\b",
    r"\b" + _WORDNUM + r"\s+(?:dollars|bucks|quid|euros|pounds)\b",
    r"\bfor\s+(?:totally\s+|completely\s+|absolutely\s+)?free\b",
    r"\bfree\s+(?:of\s+charge|installation|install|setup|set-up|router|sim|phone|upgrade|"
    r"delivery|shipping|gift|data|minutes|calls|for\s+(?:a|the|your|\d|one|two|three|six|"
    r"twelve|life))\b",
    r"\b(?:is|are|it's|its|totally|completely|100%|100\s*percent)\s+free\b(?!\s+(?:to|time|of\s+"
    r"(?:bugs|errors|problems|issues)))",
    r"\bno\s+(?:setup|set-up|installation|activation|hidden|monthly)\s+(?:fees?|charges?|costs?)\b",
    r"\b(?:cost|costs|only|just|from|starting\s+at|pay)\s+" + _NUM + r"\s*(?:a|per|/)\s*"
    r"(?:month|mo|year)\b",
    r"\bprice[sd]?\s+(?:at|from|starting)\b",
)
_DISCOUNT = _rx(
    _NUM + r"\s*(?:%|percent|per\s*cent|pct)\s*(?:off|discount|less|cheaper|savings?)\b",
    r"\b(?:half|50%)\s*(?:-\s*)?(?:price|off)\b",
    r"\bdiscount(?:s|ed)?\b",
    r"\bcheaper\b",
    r"\bsave\s+(?:up\s+to\s+|over\s+|big|money|a\s+lot|loads|heaps|" + _NUM + r"|"
    r"[$\u20ac\u00a3\u00a5])",
    r"\bprice\s*(?:match|beat|cut|drop|guarantee|lock)",
    r"\bcash\s*-?\s*back\b",
    r"\b(?:lower|better|best|great|unbeatable)\s+(?:prices?|rates?|deals?)\b",
    r"\b(?:half|a\s+third\s+of|a\s+fraction\s+of)\s+(?:the\s+)?(?:usual|normal|regular|standard)?"
    r"\s*(?:price|rate|cost)\b",
    r"\bbogo\b|\b(?:2|two)\s+for\s+(?:1|one)\b",
    r"\bon\s+sale\b|\bsale\s+(?:now|on|ends)\b",
    r"\b(?:beat|undercut|cut|lower|reduce|knock|bring)\w*\b.{0,40}?\bby\s+(?:" + _NUM + r"\s*"
    r"(?:%|percent|per\s*cent)|[$\u20ac\u00a3\u00a5]\s*\d|half|a\s+third|a\s+quarter)",
    # a percentage next to a word of reduction, in either order
    _NUM + r"\s*(?:%|percent|per\s*cent)[^.!?]{0,30}?\b(?:off|knocked|cheaper|less|lower|"
    r"discount|saving|savings|back|reduc\w*)\b",
    r"\b(?:save|saving|knock\w*|cut|reduc\w*|discount\w*)\b[^.!?]{0,30}?"
    + _NUM
    + r"\s*(?:%|percent|per\s*cent)",
    r"\b(?:beat|undercut|match)\s+(?:your|their|the|any)\s+(?:current\s+)?(?:bill|price|deal|"
    r"quote|offer|tariff)\b",
)
_OFFER = _rx(
    r"\b(?:special|exclusive|limited|introductory|welcome|switching|switcher|loyalty|"
    r"new\s+customer|sweet|amazing|great)\s+(?:offers?|deals?|bonus|rates?|pricing|packages?)\b",
    r"\blimited[\s-]+time\b",
    r"\bfree\s+(?:trial|month|months|weeks?|upgrade)\b",
    r"\b(?:first|1st|next|two|three|six|\d+)\s+months?\s+(?:free|on\s+us|half)\b",
    r"\b(?:on\s+the\s+house|on\s+us)\b",
    r"\b(?:we|i)\s*(?:can|could|'d|would|will|'ll)\s+(?:love\s+to\s+)?"
    r"(?:offer|give|get)\s+you\b",
    r"\b(?:trial|sign-?up\s+bonus|welcome\s+gift|bonus\s+data)\b",
    r"\bwe\s+(?:do|offer|have|provide|sell|'ve\s+got)\s+(?:a|an|some|plans?|deals?|fixed|"
    r"cheap|great|genuine|unlimited|fibre|broadband|packages?|bundles?)\b",
    r"\bgot\s+a\s+deal\b|\bdeal\s+for\s+you\b|\bhave\s+(?:a|an)\s+(?:offer|deal)\b",
)
_PROMO = _rx(
    r"\b(?:promo|promotional|discount|coupon|voucher|referral|offer|invite|gift|bonus)"
    r"\s*-?\s*codes?\b",
    r"\bpromo(?:code)?s?\b",
    r"\bcoupons?\b",
    r"\bvouchers?\b",
    r"\b(?:use|enter|apply|try|with|redeem|quote)\s+(?:the\s+|my\s+|our\s+|this\s+)?"
    r"codes?\b",
    r"\bcode\s*[:=]\s*[a-z0-9]{3,}",
    r"\breferral\s+(?:link|bonus)\b|\bref\s+link\b",
)
# A code in capitals after a verb that hands it over ("quote NOWIFI"), on the original text.
_PROMO_TOKEN = regex.compile(
    r"\b(?i:quote|use|enter|apply|mention|type|redeem)\s+(?i:code\s+)?[\"']?[A-Z][A-Z0-9]{3,}\b"
)
_SHORTENERS = (
    r"bit\s*\.\s*ly|bitly|t\.co|tinyurl|tiny\.cc|goo\.gl|ow\.ly|is\.gd|buff\.ly|rebrand\.ly|"
    r"cutt\.ly|shorturl|lnkd\.in|t\.ly|rb\.gy|s\.id|v\.gd|qr\.io|linktr\.ee|linktree|bl\.ink"
)
_LINK = _rx(
    r"\b(?:https?|hxxps?|ftp)\s*:\s*/\s*/\S*",
    r"\bwww\s*\.\s*\S+",
    r"\b(?:" + _SHORTENERS + r")\b\S*",
    # bare domains: at least one label, a known TLD, then not a letter
    r"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:" + _TLDS + r")(?![a-z0-9])(?:/\S*)?",
    r"\blink\s+(?:is\s+)?in\s+(?:my\s+|our\s+|the\s+)?(?:bio|profile|description)\b",
    r"\b(?:click|tap|hit|follow)\s+(?:the|this|my|our)\s+link\b|\blink\s+below\b",
    r"\[[^\]]*\]\([^)]*\)",
)
_CTA = _rx(
    r"\bswitch(?:ing)?\s+(?:over|away|sides|providers?|carriers?|networks?|isps?|companies|"
    r"plans?\s+to)\b",
    r"\bswitch(?:ing)?\s+to\s+(?:us|our|a\s+(?:better|new|different|real)|another|something|"
    r"someone|a\s+provider|a\s+company)\b",
    r"\bmake\s+the\s+(?:switch|move|jump)\b|\bjump\s+ship\b|\bditch\s+(?:them|\w+\s+for)\b",
    r"\btry\s+(?:us|our|out\s+our|a\s+(?:different|better|new|real)\s+(?:provider|network|"
    r"company|isp|carrier)|another\s+(?:provider|network|company|isp|carrier)|something\s+"
    r"(?:else|different|better))\b",
    r"\bgive\s+(?:us|our\s+\w+|\w+\s+(?:fibre|go|unlimited))\s+a\s+(?:try|go|shot|whirl|look)\b",
    r"\b(?:buy|purchase|order)\s+(?:from\s+us|with\s+us|now|today|online|one|ours|our)\b",
    r"\bsign(?:ing)?\s*-?\s*up\b(?!\s+for\s+(?:this|that))|\bsubscribe\b|\bjoin\s+(?:us|our|the)\b",
    r"\b(?:d\s?m|pm|message|inbox|dm's|text|email|e-mail|call|ring|phone|ping|contact|"
    r"whatsapp|reach|hit)\s+(?:us|me)\b",
    r"\b(?:send|drop|shoot)\s+(?:us|me)\s+(?:a\s+)?(?:dm|pm|message|line|note|email|e-mail|text)\b",
    r"\b(?:dms?|inbox|messages)\s+(?:are|is)\s+(?:always\s+)?open\b|\bslide\s+into\b",
    r"\breach\s+out\b|\bget\s+in\s+touch\b|\bhit\s+us\s+up\b|\bfind\s+us\s+(?:at|on)\b",
    r"\bcheck(?:ing)?\s+(?:us|our)\b|\bcheck\s+(?:it\s+)?out\s+(?:our|us|what|the\s+new)\b|"
    r"\bcheckout\b",
    r"\bcome\s+(?:on\s+)?(?:over|join|aboard|to\s+us)\b|\bcome\s+(?:and\s+)?(?:see|visit)\s+us\b",
    r"\bvisit\s+(?:us|our)\b|\bhead\s+(?:over\s+)?to\s+our\b|\bclick\s+(?:here|below)\b",
    r"\b(?:have|had)\s+you\s+(?:ever\s+)?(?:considered|thought\s+about|tried)\s+(?:switching|"
    r"us|our|another|other|a\s+(?:different|new|better)|leaving|moving)\b",
    r"\b(?:there\s+are|we're|we\s+are)\s+(?:much\s+)?(?:better|other|cheaper)\s+(?:options|"
    r"providers|alternatives|choices)\b|\bbetter\s+(?:options|alternatives)\s+out\s+there\b",
    r"\b(?:we|i)(?:'d| would)\s+love\s+to\s+(?:have|welcome|help|show|see)\s+you\b",
    r"\bwelcome\s+you\s+(?:aboard|on\s+board|to)\b|\bcome\s+on\s+board\b",
    r"\b(?:we|i)\s*(?:can|could|will|'ll|would)\s+(?:definitely\s+|totally\s+)?"
    r"(?:help|sort|fix|do\s+better|get\s+you)\b",
    r"\bwe've\s+got\s+you\s+covered\b|\bwe\s+never\s+have\s+(?:outages|that)\b",
    r"\b(?:our|my)\s+(?:network|service|plans?|coverage|fibre|prices|team|support|customers)\s+"
    r"(?:is|are|has|have|never|would|will|could|can)\b",
    r"\bask\s+(?:us|me)\s+(?:about|for)\b|\blearn\s+more\b|\bfind\s+out\s+more\b",
    r"\bupgrade\s+(?:to|now|today)\b|\bbook\s+(?:a|your)\s+(?:call|demo|install)\b",
    r"\bconsider\s+(?:us|our|switching|moving|leaving)\b",
    r"\b(?:ring|call|phone|shop|look|ask)\s+(?:round|around)\b|\b(?:ring|call|phone|ask)\s+"
    r"(?:a\s+few|some|other)\s+(?:other\s+)?(?:providers|networks|companies|isps|carriers)\b",
    r"\boffer\s+you\s+to\s+(?:move|switch|leave|join)\b",
    r"\bplan\s+b\b|\bbackup\s+(?:plan|option|provider|network|line)\b",
    r"\b(?:leave|leaving|move|moving|go|going)\s+(?:for|to)\s+(?:a|another|an|some)\s+"
    r"(?:\w+\s+)?(?:provider|network|company|isp|carrier|operator)\b",
    r"\b(?:a|another)\s+(?:provider|network|company|isp|carrier|operator)\s+(?:that|which|who)\b",
    r"\b(?:pop|head|swing|hop|come)\s+(?:over|by|round)\s+(?:to\s+)?(?:us|our|my)\b",
    r"\b(?:happy|glad|keen)\s+to\s+(?:share|send|tell|explain|chat|talk|show|quote|point|"
    r"recommend|suggest|introduce)\b",
    r"\bfeel\s+free\s+to\s+(?:message|dm|reach|contact|ask|ping|get\s+in\s+touch|drop|email|call)\b",
    r"\b(?:providers?|plans?|options?|deals?|networks?|alternatives?|companies)\b[^.!?]{0,40}?"
    r"\b(?:do\s+exist|exist|are\s+out\s+there|are\s+available)\b",
    r"\bworth\s+(?:a\s+(?:look|try|shot|go)|trying|checking\s+out)\b|\bcheck\s+out\b|"
    r"\btime\s+to\s+(?:look\s+(?:at|elsewhere|around)|move\s+on|leave|switch|go\s+elsewhere|"
    r"try\s+(?:something|someone|another)|jump)\b|\blook\s+elsewhere\b",
)
# On a first reply to a competitor's customer the reply is about them: any "we",
# "our" or "us" that is not shared sympathy ("we're so sorry", "we've all been
# there", "our thoughts are with you") is us talking about ourselves.
_SELF_PROMOTION = _rx(
    r"\bwe(?:'(?:re|ve|d|ll))?+(?![\w'])(?!\s+(?:are\s+|were\s+|all\s+|both\s+)?(?:so\s+|really\s+|very\s+|"
    r"truly\s+|genuinely\s+|just\s+)?(?:sorry|all|both|hope|hoping|feel|know\s+(?:how|that)|"
    r"rooting|thinking|wish|been\s+there))",
    r"\bour\s+(?!(?:condolences|sympathies|thoughts|hearts|sympathy)\b)\w+",
    r"\b(?:with|to|from|join|contact|message|call|at|choose|pick|try|ask|tell|let|give|"
    r"send|ping|dm|email|ring)\s+us\b|\bours\b",
)
# A verb of action right before our own name ("come to Northwind", "go with NW")
# is a call to action even when the sentence is otherwise harmless.
_CTA_BEFORE_BRAND = regex.compile(
    r"\b(?:try|trying|come\s+(?:over\s+)?to|switch\s+to|move\s+to|go\s+(?:with|for)|look\s+at|"
    r"check|join|choose|pick|get|consider|ask|message|dm|call|visit|with)\s+(?:out\s+)?(?:the\s+)?$",
    _F,
)
_FOLLOW = _rx(
    r"\bfollow(?:ing)?\s+(?:us|me|our|my|back|for|along|@|\w+\s+for\s+(?:more|updates|tips))\b",
    r"\bfollow\s+@",
    r"\bgive\s+(?:us|me|our\s+\w+)\s+a\s+follow\b|\bhit\s+(?:the\s+|that\s+)?follow\b",
    r"\bsmash\s+(?:the\s+|that\s+)?(?:follow|subscribe)\b|\bf4f\b|\bfollow\s+4\s+follow\b",
    r"\bfollow\s+(?:northwind|nw)\b",
)
_LEGAL = _rx(
    r"\bsu(?:e|ed|ing)\b(?!\s*(?:de|ellen))",
    r"\blaw\s*suits?\b|\blawyers?\b|\battorneys?\b|\bsolicitors?\b|\blegal\s+(?:action|team|"
    r"department|dept|steps|proceedings|counsel|advice|route|means)\b",
    r"\bdefamat\w*|\blibel\w*|\bslander\w*|\bcease\s+and\s+desist\b",
    r"\bcourt\b|\blitigat\w*|\bpress\s+charges\b|\bsmall\s+claims\b|\bclass\s+action\b",
    r"\b(?:hear|be\s+hearing)\s+from\s+(?:our|my)\s+(?:lawyers|legal)\b",
)
_THREAT = _rx(
    r"\b(?:you(?:'ll|\s+will)|you're\s+going\s+to|you\s+are\s+going\s+to)\s+(?:regret|be\s+sorry|"
    r"pay\s+for)\b",
    r"\b(?:we|i)\s*(?:will|'ll|are\s+going\s+to|can|could|may)\s+(?:have\s+to\s+)?"
    r"(?:report|ban|block|suspend|expose|disconnect|cut\s+off|terminate|close)\s+"
    r"(?:you|your)\b",
    r"\b(?:we|i)\s*(?:will|'ll)\s+(?:take|be\s+taking)\s+(?:action|measures|steps)\b",
    r"\bor\s+else\b|\bwatch\s+(?:yourself|your\s+back|your\s+mouth|what\s+you\s+(?:say|post))\b",
    r"\b(?:be\s+careful|think\s+twice)\s+(?:about\s+)?what\s+you\s+(?:say|post|write)\b",
    r"\bwe\s+know\s+where\s+you\b|\bconsequences\b|\bfinal\s+warning\b|\blast\s+warning\b",
    r"\b(?:have|get)\s+(?:your|this|that)\s+(?:post|account|tweet|toot|comment)\s+"
    r"(?:removed|taken\s+down|deleted|suspended|banned)\b",
    r"\breport(?:ed|ing)?\s+(?:your|this)\s+(?:account|profile|post)\b",
    r"\b(?:get|have)\s+you\s+(?:reported|banned|blocked|suspended|cut\s+off|disconnected|removed)\b",
    r"\bwe\s+have\s+your\s+(?:address|details|information)\b",
    r"\b(?:may|could|will|might|can)\s+(?:lead|result)\s+(?:to|in)\s+(?:disconnection|"
    r"suspension|termination|closure|action|legal|your|the\s+(?:closure|termination))\b",
    r"\bagainst\s+our\s+(?:terms|policy|policies|rules|fair\s+use|acceptable\s+use)\b",
    r"\bwe\s+(?:monitor|track|watch|log|record|keep\s+an\s+eye\s+on)\s+(?:\w+\s+){0,4}?"
    r"(?:posts?|accounts?|you|what\s+you)\b",
    r"\bact\s+on\s+(?:them|these|those|such\s+posts)\b",
)
_ARGUING = _rx(
    r"\byou(?:'re|\s+are|\s+were)\s+(?:simply\s+|just\s+|completely\s+|totally\s+|clearly\s+)?"
    r"(?:wrong|mistaken|lying|exaggerating|overreacting|confused|misinformed|incorrect)\b",
    r"\b(?:that(?:'s|\s+is)|this\s+is|it(?:'s|\s+is))\s+(?:simply\s+|just\s+|completely\s+|"
    r"totally\s+|absolutely\s+)?(?:not\s+true|untrue|false|a\s+lie|incorrect|nonsense|"
    r"misleading|misinformation|not\s+what\s+happened|not\s+the\s+case|an\s+exaggeration|"
    r"ridiculous|absurd)\b",
    r"\bthat\s+never\s+happened\b|\bstop\s+(?:lying|spreading|complaining|whining|exaggerating)\b",
    r"\bcalm\s+down\b|\bget\s+your\s+facts\b|\bwith\s+all\s+due\s+respect\b",
    r"\bthere\s+(?:is|was)\s+no\s+(?:outage|problem|issue|fault)\b",
    r"\bnot\s+(?:our|my)\s+(?:fault|problem|responsibility)\b|\bwe\s+did\s+nothing\s+wrong\b",
    r"\bwe\s+(?:never|did\s+not|didn't)\s+(?:charge|promise|say|said|agree|cut)\b",
    r"\bactually,?\s+(?:you|that|this|our|we)\b|\bno,\s+(?:you|that|it|we|the|this|our|there)\b",
    r"\bworks?\s+(?:(?:fine|perfectly|well)\s+)?for\s+(?:everyone|everybody|all\s+(?:our|other)|"
    r"other|millions|thousands|most\s+(?:people|customers|users))\b",
    r"\bif\s+you\s+(?:had\s+)?(?:actually|bothered|even)\b|\byou\s+clearly\s+(?:didn't|don't)\b",
    r"\b(?:nobody|no\s+one)\s+else\s+(?:has|is)\s+(?:complaining|had|having)\b",
    r"\bwhining\b|\bdrama\b",
    r"\brecords\s+(?:are\s+clear|clearly\s+show|show\s+clearly|prove)\b|"
    r"\bif\s+you\s+(?:want|wish)\s+to\s+(?:dispute|argue|contest)\b",
    # emphatic "we did": contradiction ("We did try to call you")
    r"\bwe\s+did\s+(?:try|call|send|tell|email|contact|inform|notify|explain|warn|ring|text)\b",
    r"\b(?:sarcasm|tone|attitude|language)\s+(?:noted|isn't|is\s+not|won't|will\s+not|doesn't)\b",
    r"\b(?:doesn't|does\s+not|can't|cannot|couldn't|could\s+not)\s+(?:affect|cause|be\s+"
    r"(?:true|right|the\s+case|what|our|us))\b",
    r"\b(?:not|isn't|wasn't)\s+what(?:'s|\s+is|\s+was)?\s+(?:happening|happened|going\s+on)\b",
)
_BLAMES = _rx(
    r"\b(?:your|ur)\s+(?:own\s+)?fault\b|\b(?:that's|that\s+is|it's|it\s+is|this\s+is)\s+on\s+"
    r"you\b|\buser\s+error\b|\boperator\s+error\b|\bpebkac\b|\brtfm\b",
    # "you should have" blames; "you shouldn't have to" is sympathy, so only the
    # positive form counts.
    r"\byou\s+(?:should|ought\s+to)\s+(?:have|'ve)\b|\byou\s+should've\b",
    r"\byou\s+(?:didn't|did\s+not|never|failed\s+to|forgot\s+to|neglected\s+to|ignored)\s+"
    r"(?:read|follow|check|pay|update|restart|configure|set|tell|contact|register|renew|clear|"
    r"confirm|provide|give|activate|install|plug|keep|reply|respond|answer|book|select|choose|"
    r"enable|turn|our|the|to)\b",
    r"\b(?:read|check)\s+(?:the|our)\s+(?:terms|manual|fine\s+print|t&cs?|t&c's|faq|contract|"
    r"small\s+print|instructions)\b|\bit's\s+in\s+the\s+(?:faq|terms|contract|small\s+print)\b",
    r"\byou\s+(?:did\s+|have\s+)?(?:agreed|agree|accepted|consented)\s+to\b|"
    r"\byou\s+signed\s+(?:the|a|our)\s+contract\b|\byou\s+were\s+(?:warned|clearly\s+told)\b",
    r"\b(?:as|which\s+was)\s+(?:clearly\s+)?(?:stated|explained|mentioned|outlined)\s+in\b",
    r"\b(?:you\s+must\s+have|it's\s+because\s+you|that's\s+because\s+you|because\s+you\s+"
    r"(?:didn't|did\s+not|chose|picked|used))\b",
    r"\byou\s+(?:chose|picked|opted\s+for)\s+the\s+(?:cheap|basic|wrong)\b",
    r"\bif\s+you\s+had\s+(?:read|followed|paid|checked|called|updated)\b",
    r"\bwhen\s+(?:you|customers|people|users)\s+(?:don't|do\s+not|didn't|fail\s+to|forget\s+to|"
    r"ignore)\b",
    r"\b(?:customers'?|your|users'?)\s+own\s+(?:wiring|equipment|router|setup|devices?|network|"
    r"kit|cabling|mistake|error|settings)\b",
    r"\byou\s+(?:would|will|'ll|'d)\s+(?:need|have)\s+to\s+(?:fix|pay|sort|replace|cover)\b",
    r"\b(?:it's|its|it\s+is|that's|probably|likely|must\s+be|almost\s+certainly)\s+(?:\w+\s+)?"
    r"(?:your|the\s+customer's)\s+(?:phone|device|router|wifi|wi-fi|setup|connection|end|side|"
    r"equipment|wiring|settings|fault|mistake|bank)\b",
    r"\b(?:come|comes|caused|happen|happens)\s+(?:from|by|when)\s+(?:users|customers|people|you)\b",
    r"\bcheck\s+with\s+(?:your|the)\s+(?:household|family|partner|housemates?|flatmates?)\b|"
    r"\bsomeone\s+(?:on|in)\s+(?:your|the)\s+(?:account|household)\b",
    r"\b(?:depends|dependent|down\s+to)\s+(?:on\s+)?your\s+(?:handset|phone|device|router|setup|"
    r"equipment|location|settings)\b|\bnot\s+(?:something|anything)\s+we\s+(?:can\s+)?control\b|"
    r"\bout\s+of\s+our\s+(?:hands|control)\b",
    r"\bif\s+(?:customers|people|users)\s+(?:\w+\s+){0,2}(?:wrong|incorrect|old|outdated|"
    r"bad|cheap)\b",
)
_POST_NOUN = (
    r"(?:post|tweet|toot|comment|thread|review|skeet|message|complaint|status|screenshot)s?"
)
_DELETE = _rx(
    r"\b(?:delet|remov|tak|took|pull|retract|hid|withdraw)(?:e|es|ed|ing)?\s+(?:down\s+)?(?:this|that|"
    r"the|your|these|those)?\s*(?:\w+\s+)?" + _POST_NOUN + r"\b",
    r"\b(?:delete|remove|take\s+down|retract)\s+(?:it|this|that)\b",
    r"\b(?:tak(?:e|es|ing)|took)\s+(?:it|this|that)\s+(?:down|offline)\b",
)
_AMEND = _rx(
    r"\b(?:amend|edit|updat|chang|correct)\w*\s+(?:your|the|this|that)\s+(?:post|tweet|toot|"
    r"comment|review|skeet)\b",
)
_CONTACT_ROUTE = _rx(
    r"\bd\s?ms?\b|\bdirect\s+message|\bprivate\s+message|\bpm\b|\binbox\b|\bmessage\s+us\b",
    r"\be-?mail\b|\b[\w.+-]+@[\w-]+\.[\w.]+",
    r"\b(?:call|ring|phone|text)\s+(?:us|our|the)\b|\bphone\b|\bhelpline\b|\bhotline\b|"
    r"\b0800\b|\+?\d[\d\s-]{7,}\d",
    r"\b(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|io|co|uk|help)\b",
    r"\b(?:reach|contact|find)\s+(?:us|our|me)\b|\bget\s+in\s+touch\b|\breach\s+out\b|"
    r"\blive\s+chat\b|\bsupport\s+(?:team|line|page|site|portal|chat)\b|\bfollow\s+us\s+back\b",
    r"\bsend\s+(?:us|me)\b|\bdrop\s+(?:us|me)\b|\bshoot\s+(?:us|me)\b",
)
_PLACEHOLDER = regex.compile(
    r"\{\{?\s*(?!dot\s*\})[\w .-]{1,40}\}\}?|"
    r"\[\s*(?:(?-i:[A-Z][A-Z _-]{1,30})|first\s*name|name|handle|"
    r"username|brand|problem|issue|competitor|product)\s*\]|<\s*(?:name|first\s*name|handle|"
    r"username|insert[^>]{0,30})\s*>|\bINSERT\s+[A-Z]+\b|%\(\w+\)s|\$\{\w+\}",
    regex.IGNORECASE,
)

# Disparaging the competitor: insults that need no subject, and judgements that
# need the competitor (or "they") as the subject.
_INSULTS = _rx(
    r"\bscam(?:s|mers?|my)?\b|\bcrooks?\b|\bclowns?\b|\bthie(?:f|ves)\b|\bliars\b|"
    r"\bcon\s*(?:artists?|men)\b|\brip\s*-?\s*offs?\b|\bcowboys\b|\bmorons?\b|\bidiots?\b|"
    r"\bincompetent\b|\bamateur\s*(?:hour|s)\b|\bdinosaurs?\b|\bcircus\b|\bshitshow\b|"
    r"\bclown\s*show\b|\bdumpster\s+fire\b|\btrash\s+(?:company|provider|network|service)\b",
    r"\bworst\s+(?:company|provider|isp|carrier|network|telco|operator|business|brand)\b",
    r"\b(?:strikes|strike|fails|screws?\s+up|did\s+it|messed\s+up)\s+again\b",
    r"\bas\s+usual\b|\bsurprise,?\s+surprise\b|\bwhat\s+(?:did|do|else\s+(?:did|do|would|"
    r"could))\s+you\s+expect\b|\b(?:not|never)\s+(?:surprised|surprising)\b|\bno\s+surprise\b",
    r"\b(?:avoid|stay\s+away\s+from|run\s+from|never\s+trust|don't\s+trust|can't\s+trust)\s+"
    r"(?:them|those\s+(?:guys|people|clowns|crooks)|that\s+company|that\s+lot)\b",
    r"\blol\b|\blmao\b|\brofl\b|\bhaha\w*\b|\U0001f921|\U0001f4a9|\U0001f5d1",
    r"\btypical\s+(?:them|of\s+them|corporate|telco|isp)\b|\bclassic\s+(?:them|move)\b",
    r"\b(?:they're|they\s+are)\s+all\s+(?:like\s+that|the\s+same)\b|\bbunch\s+of\s+\w+|"
    r"\bclueless\b|\bshambolic\b|\bstunts?\b|\blying\b|\bliars?\b|\bnotoriously\b|\bnotorious\b|\bgreedy\b|\bshady\b|\bdodgy\b|\bsucks?\b(?<!that\s+sucks)(?<!it\s+sucks)"
    r"(?<!which\s+sucks)(?<!this\s+sucks)(?<!really\s+sucks)(?<!totally\s+sucks)",
)
_JUDGEMENT = (
    r"(?:is|are|was|were|has\s+(?:always\s+)?been|have\s+(?:always\s+)?been|seems?|'s|'re)\s+"
    r"(?:(?:so|such|really|just|always|truly|totally|completely|absolutely|the|\w+ly|a|an|"
    r"total|complete|utter|absolute|real|proper|bit\s+of\s+a)\s+)*"
    r"(?:bad|terrible|awful|useless|worst|garbage|trash|rubbish|a\s+joke|joke|hopeless|"
    r"unreliable|crap|horrible|clueless|incompetent|dreadful|lazy|a\s+mess|pathetic|"
    r"a\s+disaster|disaster|mess|ridiculous|embarrassing|the\s+worst|a\s+shambles|shambles|liars|cowboys|"
    r"amateurs|idiots|greedy|shady|dodgy|crooks|thieves|a\s+nightmare\s+company)\b"
)
_SUBJECT_JUDGEMENT = regex.compile(r"\b(?:they|them|their\s+\w+)\s+" + _JUDGEMENT, _F)


def _competitor_judgement(competitor_patterns: list[str]) -> regex.Pattern[str] | None:
    if not competitor_patterns:
        return None
    alt = "|".join(competitor_patterns)
    return regex.compile(
        r"(?:" + alt + r")(?:'s)?(?:\s+(?:\w+\s+){0,2}?)?\s*" + _JUDGEMENT
        + r"|(?:typical|classic|good\s+old|ah|oh)\s+(?:" + alt + r")"
        + r"|(?:" + alt + r")\s+(?:strikes?|at\s+it|does\s+it|being\s+(?:" + alt + r"))",
        _F,
    )  # fmt: skip


# "Refers to the person's problem": acknowledgement phrasing...
_EMPATHY = _rx(
    r"\bsorry\b|\bapolog\w*|\bso\s+frustrating\b|\bfrustrat\w*|\bannoying\b|\binfuriating\b|"
    r"\bmaddening\b|\bexhausting\b|\bstressful\b|\bnightmare\b|\bheadache\b|\bugh\b|\boof\b|"
    r"\byikes\b|\bargh\b",
    r"\b(?:that|this|it)\s*(?:'s|\s+is|\s+was|\s+sounds|\s+must\s+be|\s+seems|\s+looks)\s+"
    r"(?:(?:so|really|such|a|an|genuinely|truly|properly|very|pretty|absolutely|just|no)\s+)*"
    r"(?:rough|awful|terrible|horrible|rubbish|grim|miserable|frustrating|annoying|stressful|"
    r"painful|brutal|tough|hard|bad|lousy|unfair|unacceptable|disappointing|not\s+ok|"
    r"not\s+okay|not\s+great|not\s+fun|no\s+fun|fun|worrying|scary|upsetting|a\s+pain|pain|"
    r"hassle|mess|lot|long\s+time|infuriating|the\s+worst|worst|ridiculous|a\s+drag|drag|"
    r"exhausting|maddening|rubbish|poor|disruptive|inconvenient|crap|bleak)\b",
    r"\bsounds?\s+(?:like\s+)?(?:a\s+)?(?:rough|awful|terrible|frustrating|stressful|"
    r"miserable|painful|nightmare|mess|hassle|pain|real|proper|horrible|exhausting|grim)\b",
    r"\bwhat\s+a\s+(?:pain|nightmare|hassle|headache|mess|day|week|morning|night|weekend|"
    r"rubbish|drag|faff|letdown|let\s+down|saga|ordeal|way\s+to)\b",
    r"\b(?:hope|hoping|hopefully)\b.{0,50}?\b(?:sort\w*|fix\w*|resolv\w*|back|better|soon|"
    r"improv\w*|restor\w*|work\w*|running|quick\w*|refund\w*|answer\w*|shortly|normal|settle\w*|"
    r"clear\w*|through|sooner|fast|okay|ok|right|calls?|help\w*|respond\w*|reply|replies)\b",
    r"\b(?:fingers\s+crossed|wishing\s+you|good\s+luck|best\s+of\s+luck|hang\s+in\s+there)\b",
    r"\b(?:hope|hoping|hopefully)\s+(?:someone|somebody|they|it|things|this|that|everything|"
    r"service|support|the\s+(?:fix|line|network|signal|connection|refund|engineer))\b",
    r"\bnothing\s+worse\b|\bworst\s+(?:feeling|thing|part)\b",
    r"\b(?:can't|cannot|can\s+not)\s+imagine\b|\bfeel\s+(?:for\s+you|your\s+pain)\b|"
    r"\bsympath\w*|\bthat\s+stinks\b|\bthat\s+sucks\b|\bit\s+sucks\b|\bthis\s+sucks\b|"
    r"\bno\s+one\s+(?:should|deserves|wants)\b|\bnobody\s+(?:should|deserves|wants)\b|"
    r"\bshouldn't\s+have\s+to\b|\bdeserve\s+(?:better|answers|a\s+proper)\b",
    r"\b(?:thanks|thank\s+you)\s+for\s+(?:flagging|raising|letting|telling|reporting|"
    r"sharing|your\s+patience|bearing)\b|\bwe\s+hear\s+you\b|\bi\s+hear\s+you\b",
    r"\bbeen\s+there\b|\bhappened\s+to\s+me\b|\bsame\s+(?:here|thing\s+happened)\b|"
    r"\bthat's\s+(?:a\s+)?(?:lot|long)\b|\bmust\s+be\s+\w+ing\b|\bmust\s+have\s+been\b",
)
# ...or naming the kind of problem people complain about.
_PROBLEM_WORDS = _rx(
    r"\b(?:outages?|down|downtime|offline|disconnect\w*|dropp\w+|drops|slow\w*|lag\w*|bill\w*|"
    r"charg\w+|overcharg\w+|fees?|refund\w*|cancel\w*|contract|hold|queue|wait\w*|signal|"
    r"coverage|connection|wifi|wi-fi|internet|broadband|router|modem|engineer|technician|"
    r"install\w*|appointment|support|helpline|chatbot|agent|ticket|complaint|broken|"
    r"not\s+working|stopped\s+working|no\s+service|no\s+signal|no\s+internet|speeds?|"
    r"buffering|data|roaming|sim|porting|port|number|line|fault|error|crash\w*|update|"
    r"price\s+(?:rise|hike|increase)|hike|increase|delay\w*|late|missed|no-show|hours|days|"
    r"weeks|calls?|emails?)\b",
)
_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't do
    does doesn't doing don't down during each few for from further get gets got had hadn't has
    hasn't have haven't having he her here hers herself him himself his how i i'm i've if in
    into is isn't it it's its itself just let's like me more most much my myself no nor not now
    of off on once only or other ought our ours ourselves out over own really same she should
    so some still such than that that's the their theirs them themselves then there there's
    these they they're this those through to too under until up very was wasn't we we're were
    what when where which while who whom why will with won't would you you're your yours
    yourself yourselves today yesterday tomorrow week again ever even every literally
    actually seriously honestly anyone anything someone something thing things going gonna
    want wanted know people time times make made still back well good great hope sorry thanks
    thank hear heard sounds sound right since last next first second never always yeah
    yes""".split()  # noqa: SIM905
)


def _content_stems(normalised: str, exclude: set[str]) -> set[str]:
    stems = set()
    for word in regex.findall(r"[a-z][a-z'-]{3,}", normalised):
        word = word.strip("'-")
        if len(word) < 4 or word in _STOPWORDS or word in exclude:
            continue
        stems.add(word[:5])  # a five-letter prefix is a crude but language-agnostic stem
    return stems


# --------------------------------------------------------------------------- warnings

_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}{2}")
_EMOJI_RUN = regex.compile(
    r"(?:(?:\p{Extended_Pictographic}|\p{Regional_Indicator})[\p{M}\u200d\ufe0f"
    r"\p{Extended_Pictographic}\p{Regional_Indicator}\U0001F3FB-\U0001F3FF]*\s*){3,}"
)
_BANG = r"[!\u00a1\u2757\u2755\u203c\u2049\uff01]"  # ! and its look-alikes
_EXCLAIM_RUN = regex.compile(_BANG + r"(?:[?\s1]*" + _BANG + r")+")
_CAPS_WORD = regex.compile(r"\b\p{Lu}{2,}\b")


def _shouting(text: str) -> tuple[int, int] | None:
    words = list(regex.finditer(r"\b[\p{L}']+\b", text))
    run: list[regex.Match[str]] = []
    best: list[regex.Match[str]] = []
    for w in words:
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
        return (best[0].start(), best[-1].end())
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 20 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        return (0, len(text))
    return None


def _squash(text: str) -> str:
    """Text reduced for template comparison: normalised, letters and digits only."""
    return regex.sub(r"[\W_]+", " ", _normalise(text).text).strip()


# --------------------------------------------------------------------------- the check


def check_reply(text: str, context: ReplyContext) -> list[Finding]:
    """Findings for ``text`` as a reply under ``context``; spans index the original text."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    if context.playbook not in PLAYBOOKS:  # guards contexts built around __post_init__
        raise ValueError(f"unknown playbook {context.playbook!r}")
    competitor = context.playbook == "competitor"
    sales_blocks = competitor and context.first_reply
    findings: list[Finding] = []

    def add(code: str, start: int, end: int, detail: str = "", *, block: bool) -> None:
        message = CODES[code] + (f": {detail}" if detail else "")
        findings.append(Finding(code, block, message, start, end))

    def add_view(
        code: str, view: _View, start: int, end: int, *, block: bool, detail: str = ""
    ) -> None:
        o_start, o_end = view.span(start, end)
        snippet = text[o_start:o_end]
        add(code, o_start, o_end, detail or f"{snippet[:60]!r}", block=block)

    # Matching cost grows with the text; anything this long is far over every
    # platform's limit, so check the head and block the whole.
    limit = max(MAX_CHECKED, 2 * context.max_length)
    head = text[:limit]
    view = _prepare(head)
    if len(text) > limit:
        add("too_long", limit, len(text), f"only the first {limit} characters were checked",
            block=True)  # fmt: skip
    if not view.text.strip():
        add("empty", 0, len(text), block=True)
        return findings

    # Length is measured on what would be sent.
    if context.max_length <= 0:
        add("too_long", 0, len(text), "this platform does not allow replies", block=True)
    elif len(text) <= limit:
        length = measure_length(text, context.length_unit)
        if length > context.max_length:
            start = context.max_length if context.length_unit == "characters" else 0
            add(
                "too_long",
                start,
                len(text),
                f"{length} {context.length_unit}, limit {context.max_length}",
                block=True,
            )

    norm = view.text
    leet = _leet(norm)
    seen: set[tuple[str, int, int]] = set()

    def add_matches(code: str, pattern: regex.Pattern[str], *, block: bool, skip=None) -> None:
        for m in pattern.finditer(norm):
            if m.end() == m.start():
                continue
            if skip is not None and skip(m):
                continue
            key = (code, m.start(), m.end())
            if key in seen:
                continue
            seen.add(key)
            add_view(code, view, m.start(), m.end(), block=block)

    # -- sales signals (competitor playbook; warnings once the person has engaged)
    if competitor:
        sales = sales_blocks
        own_hits = _find_terms(view, leet, context.own_terms, text)
        for start, end, term in own_hits:
            add_view("own_brand_named", view, start, end, block=sales, detail=repr(term))
            lead = _CTA_BEFORE_BRAND.search(norm[max(0, start - 30) : start])
            if lead:
                add_view("call_to_action", view, start - len(lead.group(0)), end, block=sales)
        # Any hashtag built on one of our tags or terms (#Northwind, #SwitchToNorthwind).
        skeletons = {s for t in (*context.own_hashtags, *context.own_terms) if (s := _skeleton(t))}
        for m in _HASHTAG.finditer(leet):
            body = regex.sub(r"[\W_]+", "", m.group(1))
            if any(s in body for s in skeletons):
                add_view("own_hashtag", view, m.start(), m.end(), block=sales)

        post_norm = _normalise(context.post_text[:MAX_CHECKED]).text if context.post_text else ""
        post_amounts = set(regex.findall(r"\d+(?:[.,]\d+)*", post_norm))

        def quoted_price(m: regex.Match[str]) -> bool:
            # The customer's own figure, echoed back ("a $90 surprise bill"), is
            # acknowledgement, not our price.
            amounts = regex.findall(r"\d+(?:[.,]\d+)*", m.group(0))
            return bool(amounts) and all(a in post_amounts for a in amounts)

        add_matches("link", _LINK, block=sales)
        add_matches("price", _PRICE, block=sales, skip=quoted_price)
        add_matches(
            "discount",
            _DISCOUNT,
            block=sales,
            skip=lambda m: (
                regex.search(r"\bcheaper\b", m.group(0)) is not None and "cheaper" in post_norm
            ),
        )
        add_matches("offer", _OFFER, block=sales)
        add_matches("promo_code", _PROMO, block=sales)
        for m in _PROMO_TOKEN.finditer(head):
            add("promo_code", m.start(), m.end(), repr(m.group(0)), block=sales)
        add_matches("call_to_action", _CTA, block=sales)
        add_matches("self_promotion", _SELF_PROMOTION, block=sales)
        add_matches("follow_request", _FOLLOW, block=sales)

    # -- disparaging the competitor (both playbooks, every reply)
    comp_patterns = [p.pattern for t in context.competitor_terms if (p := _term_pattern(t))]
    judgement = _competitor_judgement(comp_patterns)
    # Judge on the normal text, with competitor names in their leet form so that
    # "T3lvana is a joke" is caught while "useless" keeps its letters.
    hybrid = list(norm)
    for start, end, _term in _find_terms(view, leet, context.competitor_terms, text):
        hybrid[start:end] = leet[start:end]
    hybrid_text = "".join(hybrid)
    post_norm_all = _normalise(context.post_text[:MAX_CHECKED]).text if context.post_text else ""

    def echoes_post(m: regex.Match[str]) -> bool:
        # Repeating the person's own word ("'typical', as you say") is not our insult.
        word = m.group(0).strip()
        return len(word) >= 4 and regex.search(r"\b" + regex.escape(word) + r"\b", post_norm_all)

    add_matches("disparages_competitor", _INSULTS, block=True, skip=echoes_post)
    add_matches("disparages_competitor", _SUBJECT_JUDGEMENT, block=True)
    if judgement is not None:
        for m in judgement.finditer(hybrid_text):
            key = ("disparages_competitor", m.start(), m.end())
            if key not in seen:
                seen.add(key)
                add_view("disparages_competitor", view, m.start(), m.end(), block=True)

    def quotes_post(m: regex.Match[str]) -> bool:
        # "Being told it's on your side" repeats what the person was told ("on my
        # side"): quoting their words back is sympathy, not blame.
        mine = regex.sub(r"\byour\b", "my", regex.sub(r"\byou\b", "i", m.group(0)))
        core = regex.sub(r"^(?:it's|its|it\s+is|that's|probably|likely)\s+", "", mine)
        return bool(post_norm_all) and core in post_norm_all

    # -- hostility and legal language (both playbooks, every reply)
    add_matches("legal_threat", _LEGAL, block=True)
    add_matches("threat", _THREAT, block=True)
    add_matches("arguing", _ARGUING, block=True)
    add_matches("blames_customer", _BLAMES, block=True, skip=quotes_post)
    add_matches("delete_request", _DELETE, block=True)
    if context.first_reply:
        add_matches("delete_request", _AMEND, block=True)
    for m in _PLACEHOLDER.finditer(head):
        add("placeholder", m.start(), m.end(), repr(m.group(0)), block=True)

    # -- does it acknowledge the problem?
    refers = bool(_EMPATHY.search(norm)) or bool(_PROBLEM_WORDS.search(norm))
    if not refers and context.post_text:
        brand_words = set()
        for t in (*context.own_terms, *context.competitor_terms):
            brand_words.update(regex.findall(r"[a-z0-9]+", _normalise(t).text))
        refers = bool(
            _content_stems(norm, brand_words) & _content_stems(post_norm_all, brand_words)
        )
    if not refers:
        add(
            "no_reference_to_problem",
            0,
            len(text),
            "say you heard what went wrong",
            block=sales_blocks,
        )

    if not competitor and not _CONTACT_ROUTE.search(norm):
        # The own-brand first reply moves the conversation to a private channel.
        add("no_contact_route", 0, len(text), "offer DM, email, phone or a support link",
            block=context.first_reply)  # fmt: skip

    # -- warnings (both playbooks)
    shout = _shouting(head)
    if shout:
        add("shouting", shout[0], shout[1], block=False)
    runs = list(_EXCLAIM_RUN.finditer(head))
    marks = [m.start() for m in regex.finditer(_BANG, head)]
    if runs:
        add("exclamation_run", runs[0].start(), runs[0].end(), block=False)
    elif len(marks) >= 4:
        add("exclamation_run", marks[0], marks[-1] + 1, f"{len(marks)} of them", block=False)
    emoji = _EMOJI_RUN.search(head)
    if emoji:
        add("emoji_run", emoji.start(), emoji.end(), block=False)
    if context.templates:
        squashed = _squash(head)
        if any(squashed == _squash(t) for t in context.templates if t.strip()):
            add("unchanged_template", 0, len(text), block=False)

    return _tidy(findings)


def _tidy(findings: list[Finding]) -> list[Finding]:
    """Sorted, without findings nested inside a larger one of the same code and kind."""
    kept: list[Finding] = []
    reach: dict[tuple[str, bool], int] = {}  # furthest end kept so far per (code, blocking)
    for f in sorted(findings, key=lambda f: (f.code, f.blocking, f.start, -(f.end - f.start))):
        key = (f.code, f.blocking)
        if reach.get(key, -1) >= f.end:
            continue  # sorted by start, so an earlier one that reaches this far contains it
        reach[key] = f.end
        kept.append(f)
    kept.sort(key=lambda f: (f.start, f.end, f.code))
    return kept
