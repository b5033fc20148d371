"""Rule 9's lexicon: does a person's answer ask us to stop? Pure text in, yes or no out."""

from __future__ import annotations

import re

# Rule 9: answers that mean "stop", or that tell a brand it is not welcome. A false
# positive ends a case early and puts the person on the do-not-contact list, so
# the net is wide but aimed at us: "stop messaging me", "blocking you", "is this
# a bot" count; an own-brand customer's "my card got blocked", "it stopped working
# again" or "your chatbot is useless" describe the problem and do not. Three
# families: asking us to stop, rejecting a brand in the conversation, hostility.
_OPT_OUT_PATTERNS = (
    # asking us to stop
    r"(please|just|so) stop|stop (it|this|that|now|please|messaging|contacting|replying|tagging|"
    r"spamming|following|dm\w*|@\w*)\w*|leave me alone|go away|get lost|back off|unsubscribe|"
    r"opt(ed)? ?out|not interested|no thanks|remove me|unfollow me|"
    r"(don'?t|do not|never) (contact|message|dm|tag|mention|reply to|talk to|@) ?(me|us)|"
    r"(block|blocking|blocked|report|reporting|reported|mute|muting|muted) "
    r"(you|u|this( account| reply| post)?|your account)|"
    r"(reported|flagged|marked) (it |this |you )?as spam|"
    r"(this is|that'?s|what|more|such|corporate|marketing) spam|spam(my|mer|bot)s?|"
    r"(you'?re|are you|is this|this is|you are|u r|ur|another|stupid|dumb) "
    r"(a |an |just a |some )?(bot|robot)s?|(go away|unfollow me|stop|shut up),? bots?",
    # rejecting a brand in the conversation
    r"who (even )?asked|nobody asked|didn'?t ask|"
    r"(mind|stay out of) (your|my) (own )?business|"
    r"(none|any) of your (business|concern)|not your (business|concern)|"
    r"don'?t pretend|spare me|save (it|your|the) \w*|nice try|not buying it|"
    r"vultures?|jackals?|ambulance[- ]chas\w*|shill\w*|pr stunt|marketing stunt|"
    r"(a|some) (company|brand|corporate) account|you'?re a (brand|company)|"
    r"(did|does) an intern|as bad as each other|just what (my day|i) needed|"
    r"fix your own",
    # plain hostility
    r"f+u+c*k+ (off|you)|piss off|shut up|harass\w*|creep\w*",
)

_OPT_OUT_TEXT = re.compile(r"\b(" + "|".join(_OPT_OUT_PATTERNS) + r")\b", re.IGNORECASE)

# One word that is the whole answer: "STOP", "blocked.", "spam".
_OPT_OUT_WORD = re.compile(
    r"^\W*(please |just |ok,? |now )?(stop|blocked|reported|muted|spam)\W*$", re.IGNORECASE
)


_MENTIONS = re.compile(r"^\s*(@[\w.@-]+[\s,:]*)+")


def looks_like_opt_out(text: str) -> bool:
    """True when a person's answer asks us to stop or is hostile (rule 9)."""
    text = text or ""
    # A reply starts with the handles it answers ("@brand STOP"): the one word is what follows.
    answer = _MENTIONS.sub("", text)
    return bool(_OPT_OUT_WORD.match(answer) or _OPT_OUT_TEXT.search(text))
