"""Issue #18, items 3-7: languages, update vs delete, quotes, affiliation disclosure,
and check_reply's new input fields."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from outreach.tone import CODES, FIRM_CODES, ReplyContext, check_reply
from outreach.tone.language import detect

OWN = ("Northwind", "Northwind Fibre")
COMPETITORS = ("Telvana", "Orbix")


def ctx(playbook: str = "competitor", **kw: Any) -> ReplyContext:
    return ReplyContext(playbook=playbook, own_terms=OWN, competitor_terms=COMPETITORS, **kw)


def blocking(text: str, context: ReplyContext) -> set[str]:
    return {f.code for f in check_reply(text, context) if f.blocking}


def warnings(text: str, context: ReplyContext) -> set[str]:
    return {f.code for f in check_reply(text, context) if not f.blocking}


# --------------------------------------------------------------------------- languages


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Lo siento mucho, escríbenos por DM y lo revisamos hoy mismo.", "es"),
        ("Vraiment désolés, envoyez-nous un MP avec votre numéro client.", "fr"),
        ("Das tut uns leid, schreib uns eine DM mit deiner Kundennummer.", "de"),
        ("Sentimos muito, manda uma DM pra gente com o número do pedido.", "pt"),
        ("Sorry to hear the line dropped again, that sounds exhausting.", "en"),
        ("Ci dispiace molto per il disservizio, speriamo che si risolva presto.", "it"),
        ("Ok!", "und"),
        ("Очень жаль, что интернет не работает уже два дня.", "cyrillic"),
    ],
)
def test_the_reply_language_is_detected(text: str, language: str) -> None:
    assert detect(text) == language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Lo siento. Cámbiate a una compañía que sí conteste.", "call_to_action"),
        ("Désolé. Passez chez nous, on ne fait jamais ça.", "call_to_action"),
        ("Tut mir leid. Wechsle doch zu uns, bei uns gibt es das nicht.", "call_to_action"),
        ("Que chato. Vem pra Northwind, a gente nunca cobra duas vezes.", "call_to_action"),
        ("Síguenos para más novedades, lo siento por la avería.", "follow_request"),
        ("Telvana son unos estafadores, como siempre.", "disparages_competitor"),
        ("Orbix ? Une arnaque, désolé pour la facture.", "disparages_competitor"),
        ("ZephyrNet ist ein Saftladen. Tut mir leid wegen der Störung.", "disparages_competitor"),
        ("Eso no es verdad, el cargo es correcto.", "arguing"),
        ("C'est faux, il n'y a eu aucune panne.", "arguing"),
        ("Das stimmt nicht, es gab keine Störung.", "arguing"),
        ("Isso não é verdade, não houve nenhuma falha.", "arguing"),
        ("Es tu culpa, deberías haber reiniciado el router.", "blames_customer"),
        ("Vous auriez dû redémarrer la box.", "blames_customer"),
        ("A culpa é sua, você deveria ter reiniciado o modem.", "blames_customer"),
        ("Nuestros abogados tomarán acciones legales.", "legal_threat"),
        ("Nous porterons plainte pour diffamation.", "legal_threat"),
        ("Unser Anwalt wird rechtliche Schritte einleiten.", "legal_threat"),
        ("Nossos advogados vão processar você.", "legal_threat"),
        ("Te vas a arrepentir de esto, última advertencia.", "threat"),
        ("Letzte Warnung: wir werden Ihr Konto sperren.", "threat"),
        ("Vai se arrepender, último aviso.", "threat"),
        ("Por favor, borra el tuit cuanto antes.", "delete_request"),
        ("Supprimez ce message, s'il vous plaît.", "delete_request"),
        ("Bitte lösch den Beitrag.", "delete_request"),
        ("Por favor, apague esse post.", "delete_request"),
    ],
)
def test_patterns_cover_spanish_french_german_and_portuguese(text: str, code: str) -> None:
    assert code in blocking(text, ctx(post_text="Telvana sin internet desde ayer"))


@pytest.mark.parametrize(
    "text",
    [
        "Lo sentimos mucho. Escríbenos por DM con tu número de cliente y lo revisamos.",
        "Vraiment désolés. Envoyez-nous un MP avec votre numéro client.",
        "Das tut uns leid. Schreib uns eine DM, wir kümmern uns darum.",
        "Sentimos muito. Manda uma DM pra gente com o número do pedido.",
        "Lo siento mucho. Mándame un mensaje directo con tu número de pedido y lo reviso hoy.",
        "Lamentamos muito. Fale com a gente pelo chat do app e resolvemos.",
        "Désolée pour ce double prélèvement. Écrivez-moi en message privé, je regarde.",
        "Das tut mir leid. Schreib mir eine Nachricht mit deiner Kundennummer.",
    ],
)
def test_an_own_brand_dm_us_in_another_language_is_a_contact_route(text: str) -> None:
    context = ctx("own_brand", post_text="Northwind sin internet desde ayer")
    assert blocking(text, context) == set()


@pytest.mark.parametrize(
    "text",
    [
        "Qué rabia, dos días sin internet. Ojalá lo solucionen pronto.",
        "Être facturé deux fois, quelle galère. J'espère que ça s'arrange vite.",
        "Drei Tage ohne Internet ist wirklich ärgerlich. Hoffentlich kommt bald jemand.",
        "Poxa, cobrança duplicada é muito frustrante. Espero que resolvam logo.",
    ],
)
def test_an_empathetic_reply_in_another_language_refers_to_the_problem(text: str) -> None:
    assert blocking(text, ctx(post_text="Telvana")) == set()


def test_a_language_not_covered_warns_and_never_blocks_for_what_it_seems_to_lack() -> None:
    text = "Ci dispiace molto per il disservizio, speriamo che si risolva presto."
    competitor = ctx(post_text="Telvana non funziona da ieri")
    own = ctx("own_brand", post_text="Northwind non funziona da ieri", personal_account=True)
    assert "language_unchecked" in warnings(text, competitor)
    assert blocking(text, competitor) == set()
    assert blocking(text, own) == set()
    assert {"no_contact_route", "no_disclosure", "language_unchecked"} <= warnings(text, own)


def test_a_link_still_blocks_in_a_language_not_covered() -> None:
    text = "Guarda northwind.com per un'offerta migliore, ci dispiace per il disservizio."
    assert "link" in blocking(text, ctx(post_text="Telvana non funziona"))


def test_a_short_reply_is_not_called_an_unknown_language() -> None:
    assert "language_unchecked" not in warnings("Ugh, so sorry!", ctx(post_text="x"))


# --------------------------------------------------------------------------- update vs delete

POST = "Northwind charged me twice, still waiting on a refund."


@pytest.mark.parametrize(
    "text",
    [
        "Glad the refund landed! If you like, could you update your post so others know?",
        "Great that it's sorted. No need to delete anything, but an edit to the post would help.",
        "Ya está resuelto. ¿Podrías actualizar la publicación para que otros lo sepan?",
    ],
)
def test_asking_to_update_the_post_on_a_later_own_brand_reply_is_allowed(text: str) -> None:
    assert "delete_request" not in blocking(
        text, ctx("own_brand", post_text=POST, first_reply=False)
    )


@pytest.mark.parametrize(
    "text",
    [
        "Glad it's sorted. Could you take the post down now?",
        "Refund done. We'd appreciate it if the thread quietly disappeared.",
        "We'll process the refund once the post is gone.",
        "Ya está resuelto. ¿Podrías borrar el tuit?",
    ],
)
def test_asking_to_delete_the_post_blocks_on_every_reply(text: str) -> None:
    for first in (True, False):
        context = ctx("own_brand", post_text=POST, first_reply=first)
        assert "delete_request" in blocking(text, context)


def test_asking_to_amend_the_post_still_blocks_a_first_reply() -> None:
    text = "Sorry about the double charge, DM us. Could you update your post once it's sorted?"
    assert "delete_request" in blocking(text, ctx("own_brand", post_text=POST))


# --------------------------------------------------------------------------- quotes

QUOTED_POST = "Orbix: 'your call is important to us'. Two hours on hold. Is it though?"


@pytest.mark.parametrize("quote", ["'{}'", '"{}"', "\u201c{}\u201d", "\u00ab {} \u00bb"])
def test_words_quoted_from_the_post_are_not_held_against_the_reply(quote: str) -> None:
    text = (
        "Being told "
        + quote.format("your call is important to us")
        + " for two hours is maddening. Hope someone picks up soon."
    )
    assert blocking(text, ctx(post_text=QUOTED_POST)) == set()


def test_the_same_words_unquoted_or_not_from_the_post_still_count() -> None:
    unquoted = "Your call is important to us. Hope someone picks up soon."
    assert "self_promotion" in blocking(unquoted, ctx(post_text=QUOTED_POST))
    invented = "Sorry about the hold. 'Our network never drops' as they say."
    assert blocking(invented, ctx(post_text=QUOTED_POST))


def test_a_quoted_firm_signal_still_blocks() -> None:
    post = "Telvana told me to check northwind.com for help?? I'm a Telvana customer"
    text = "Sorry, being sent to 'northwind.com' by your own provider is confusing."
    assert {"link", "own_brand_named"} <= blocking(text, ctx(post_text=post))
    assert {"link", "price", "promo_code", "own_brand_named"} == FIRM_CODES


# --------------------------------------------------------------------------- disclosure

OWN_POST = "Northwind my router died again, third time this year."


@pytest.mark.parametrize(
    "text",
    [
        "Sorry about the router. I work at Northwind: DM me and I'll chase the replacement.",
        "Sorry about the router. Disclosure: I'm on the Northwind support team. DM me.",
        "Lo siento. Trabajo en Northwind, mándame un DM y lo reviso.",
        "Désolé. Je travaille chez Northwind, envoyez-moi un MP.",
        "Tut mir leid. Transparenzhinweis: Ich arbeite bei Northwind. Schreib mir eine DM.",
    ],
)
def test_a_personal_account_reply_that_discloses_passes(text: str) -> None:
    context = ctx("own_brand", post_text=OWN_POST, personal_account=True)
    assert "no_disclosure" not in blocking(text, context)


def test_a_personal_account_reply_without_disclosure_blocks_with_its_own_code() -> None:
    text = "Sorry about the router, DM me your account number and I'll chase it."
    for playbook in ("own_brand", "competitor"):
        for first in (True, False):
            context = ctx(playbook, post_text=OWN_POST, personal_account=True, first_reply=first)
            assert "no_disclosure" in blocking(text, context)
    assert "no_disclosure" not in blocking(text, ctx("own_brand", post_text=OWN_POST))
    assert "no_disclosure" in CODES


def test_a_disclosure_must_name_our_brand_and_the_playbook_wording_counts() -> None:
    context = ctx("own_brand", post_text=OWN_POST, personal_account=True)
    assert "no_disclosure" in blocking("Sorry! I work at a bakery. DM me.", context)
    worded = ctx(
        "own_brand", post_text=OWN_POST, personal_account=True, disclosure="({brand} staff)"
    )
    assert "no_disclosure" not in blocking("Sorry about that, DM me (Northwind staff)", worded)


def test_hostile_input_does_not_break_the_new_checks() -> None:
    context = ctx("own_brand", post_text="'" * 500, personal_account=True)
    text = "<script>alert(1)</script>" + "'a'" * 3000 + "\u202e\u200b"
    findings = check_reply(text, context)
    assert all(0 <= f.start <= f.end <= len(text) for f in findings)


# --------------------------------------------------------------------------- check_reply --jsonl


def _run(rows: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    stdin = io.TextIOWrapper(io.BytesIO("\n".join(json.dumps(r) for r in rows).encode()))
    monkeypatch.setattr("sys.stdin", stdin)
    out = io.StringIO()
    # A bad line makes the command fail at the end; its output line says why.
    with contextlib.suppress(CommandError):
        call_command("check_reply", jsonl="-", stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_check_reply_reads_first_reply_and_personal_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = {
        "platform": "sandbox",
        "playbook": "own_brand",
        "own_terms": list(OWN),
        "competitor_terms": list(COMPETITORS),
        "post_text": POST,
        "text": "Glad the refund landed, DM me if not. Could you update your post?",
    }
    rows = [
        {**base, "id": 1},
        {**base, "id": 2, "first_reply": False},
        {**base, "id": 3, "first_reply": False, "personal_account": True},
        {**base, "id": 4, "personal_account": "yes"},
    ]
    out = {r["id"]: r for r in _run(rows, monkeypatch)}
    assert "delete_request" in out[1]["blocking"]
    assert out[2]["blocking"] == []
    assert out[3]["blocking"] == ["no_disclosure"]
    assert "personal_account" in out[4]["error"]
