"""Pattern families that generalise beyond the evaluation set's wording: each firm or
keyword-able code in its other forms and languages, and the sympathetic phrasings that
used to be read as blame, arguing, threats or requests. The patterns alone are checked
(``semantic=False``): the semantic layer has tests of its own."""

from __future__ import annotations

from typing import Any

import pytest

from outreach.tone import ReplyContext, check_reply

OWN = ("Northwind", "Northwind Fibre")
COMPETITORS = ("Telvana", "Orbix")
POST = "Telvana cut me off for a week and billed me anyway."


def ctx(playbook: str = "competitor", **kw: Any) -> ReplyContext:
    kw.setdefault("post_text", POST)
    return ReplyContext(playbook=playbook, own_terms=OWN, competitor_terms=COMPETITORS, **kw)


def blocking(text: str, context: ReplyContext) -> set[str]:
    return {f.code for f in check_reply(text, context, semantic=False) if f.blocking}


SORRY = "A week cut off and still billed is awful."


# --------------------------------------------------------------------------- firm codes


@pytest.mark.parametrize(
    "text",
    [
        "Hi <customer>, sorry about the week without service.",
        "Sorry about the outage, thanks, <support_signature>",
        "Hallo [Vorname], das mit der Rechnung tut mir leid.",
        "Sorry %FIRSTNAME%, a week offline is awful.",
        "Sorry about the bill, we'll call you back by XXX.",
        "Sorry about the bill, email XXX@northwind.example with the details.",
        "Sorry about that [insert apology here].",
    ],
)
def test_any_template_slot_left_unfilled_is_a_placeholder(text: str) -> None:
    assert "placeholder" in blocking(text, ctx("own_brand", first_reply=False))


@pytest.mark.parametrize(
    "text",
    [
        "Sorry about the bill [sic], that is not on.",
        "Sorry about the outage, see [the status page](https://status.example) <3",
        "Sorry about the outage, hope it's back <b>soon</b>",
    ],
)
def test_editorial_brackets_and_markdown_links_are_no_placeholder(text: str) -> None:
    assert "placeholder" not in blocking(text, ctx("own_brand", first_reply=False))


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} Use SWITCH25 if you fancy a change.",
        f"{SORRY} Redeem NW-HELLO-26 for a fresh start.",
        f"{SORRY} Code FRESHSTART gets you set up in a day.",
        f"{SORRY} Con el cupón AHORRO15 pagas menos.",
        f"{SORRY} Mit WECHSEL30 sparst du beim Wechsel.",
        f"{SORRY} Usa o código CASANOVA no site.",
        f"{SORRY} HELLO20 à la caisse.",
    ],
)
def test_a_capital_code_handed_over_is_a_promo_code_without_the_word_promo(text: str) -> None:
    assert "promo_code" in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} Error code E404 usually means the line card reset.",
        f"{SORRY} Keep the email with the code they sent, it proves the date.",
        f"{SORRY} Quote your order number ABC1234 when you ring them.",
    ],
)
def test_error_and_order_codes_are_no_promo_code(text: str) -> None:
    assert "promo_code" not in blocking(text, ctx())


def test_a_voucher_the_post_speaks_of_is_theirs_not_ours() -> None:
    context = ctx(post_text="Flight cancelled and they gave me a voucher instead of cash")
    text = "A voucher instead of your money is a let-down. You can insist on a cash refund."
    assert "promo_code" not in blocking(text, context)
    assert "promo_code" in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} Ours is fifteen quid a month.",
        f"{SORRY} Aqui sale por 4,90 por mes.",
        f"{SORRY} Chez nous c'est 19,99 par mois.",
        f"{SORRY} Bei uns 12 ct/kWh.",
        f"{SORRY} Our tariff is 24p/kWh.",
    ],
)
def test_prices_in_every_period_and_unit_are_prices(text: str) -> None:
    assert "price" in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} Switchers get -30 % on the first year.",
        f"{SORRY} Half off your first bill with us.",
        f"{SORRY} Para ti, un 20% menos en cualquier tarifa.",
        f"{SORRY} On retire 15 % sur le kWh la première année.",
        f"{SORRY} A gente tira 40% da mensalidade.",
        f"{SORRY} Tenemos la cuota rebajada a la mitad.",
    ],
)
def test_discounts_in_every_form_and_language_are_discounts(text: str) -> None:
    assert "discount" in blocking(text, ctx())


def test_cheaper_than_compensation_is_about_their_costs_not_a_deal() -> None:
    text = f"{SORRY} Ask for a dongle: it's cheaper than compensation for them."
    assert "discount" not in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} Tout est sur comparatif-fibre point fr slash lyon",
        f"{SORRY} Há um simulador em comparaluz (ponto) pt",
        f"{SORRY} Mira en tarifas punto com",
    ],
)
def test_a_link_with_the_dot_spelled_in_another_language_is_a_link(text: str) -> None:
    assert "link" in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} Message the team on t.me/nwhelp",
        f"{SORRY} WhatsApp works too: wa.me/441234567890",
        f"{SORRY} Chat with us at m.me/northwind",
        f"{SORRY} Plans compared at fibrecheck.me/telvana",
        f"{SORRY} See bestdeal.fm/switch",
    ],
)
def test_a_messaging_link_or_any_domain_with_a_path_is_a_link(text: str) -> None:
    assert "link" in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        "A week offline is awful, and 9.5/10 support calls end the same way. So sorry.",
        "Sorry, a week without service is awful; hope it's fixed by 5 p.m./tonight at the latest.",
        "That sounds awful. I hope it gets sorted, and/or they refund the week.",
    ],
)
def test_prose_with_slashes_is_not_a_link(text: str) -> None:
    assert "link" not in blocking(text, ctx())


def test_punto_de_vista_is_prose_not_a_link() -> None:
    text = "Una semana sin servicio es terrible, desde cualquier punto de vista. Lo siento."
    assert "link" not in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} Tap that follow button for more tips.",
        f"{SORRY} Dale a seguir a la cuenta y te contamos más.",
    ],
)
def test_asking_for_the_follow_button_is_a_follow_request(text: str) -> None:
    assert "follow_request" in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} Para ti el primer mes es gratis.",
        f"{SORRY} On vous offre le premier mois, cadeau de la maison.",
        f"{SORRY} A gente te dá 3 meses de presente.",
    ],
)
def test_free_things_and_gifts_in_other_languages_are_offers(text: str) -> None:
    assert "offer" in blocking(text, ctx())


def test_something_free_in_general_is_no_offer() -> None:
    text = "Une semaine sans service, c'est rageant. Le médiateur est gratuit, tentez-le."
    assert "offer" not in blocking(text, ctx())


# --------------------------------------------------------------------------- delete requests

POSTED = "Northwind lost my parcel, third time this year"


@pytest.mark.parametrize(
    "text",
    [
        "Sorry! DM us the tracking number. We'd appreciate it if the video came down.",
        "So sorry, DM us. Happy to talk once the tweet's gone.",
        "Sorry! Email us. Any chance you could unpost this in the meantime?",
        "Sorry, DM us. Would you mind taking the photo down?",
        "Sorry, DM us. We'd love for this thread to quietly disappear once it's fixed.",
        "Sorry, DM us. It'd help a lot if this didn't stay up.",
        "Sorry, DM us. Could you get rid of the original post?",
        "Sorry, DM us. Happy to help once this is off your timeline.",
        "Lo sentimos, escríbenos por MD y te agradeceríamos que borraras el tuit.",
        "Désolés, écrivez-nous en MP, à condition que ce post soit retiré.",
        "Schreib uns eine DM, sobald dieser Beitrag entfernt ist.",
        "Schreib uns eine DM, vielleicht verschwindet der Post dann ja wieder.",
        "Envie-nos DM, e agradecíamos que esta publicação deixasse de estar visível.",
    ],
)
def test_asking_or_wishing_the_post_gone_is_a_delete_request(text: str) -> None:
    for first in (True, False):
        context = ctx("own_brand", post_text=POSTED, first_reply=first)
        assert "delete_request" in blocking(text, context), first


@pytest.mark.parametrize(
    "text",
    [
        "Sorry! DM us your number and we'll remove it and check why it was added.",
        "Sorry, DM us. Please take photos of the box before you send it back.",
        "Sorry, DM us. We take your complaint seriously.",
    ],
)
def test_our_own_removal_or_taking_photos_is_no_delete_request(text: str) -> None:
    context = ctx("own_brand", post_text=POSTED)
    assert "delete_request" not in blocking(text, context)


def test_asking_to_update_the_post_on_a_later_reply_is_still_allowed() -> None:
    text = "Great to hear! If you get a moment, an update to your post would be appreciated."
    assert blocking(text, ctx("own_brand", post_text=POSTED, first_reply=False)) == set()


# --------------------------------------------------------------------------- threats and legal


@pytest.mark.parametrize(
    "text",
    [
        "Sorry, DM us. Just so you know, we keep screenshots of posts like this.",
        "Noted. We've logged your player ID alongside this conversation.",
        "Sure. Just remember our drivers know your address.",
        "Sorry, DM us. Think carefully before accusing our staff.",
        "Sorry, DM us. It would be a shame if future bookings became difficult.",
        "Vale, pero que sepas que tenemos guardada toda esta conversación.",
        "Bonjour, nous gardons une trace de vos publications.",
        "Alles klar. Wir haben deinen Account notiert.",
        "Entendido. O seu nome fica bem anotado cá do nosso lado.",
        "Sorry, DM us. Just so you know, we've made a note of your handle.",
        "Sorry, DM us. Please be aware false claims are taken very seriously.",
        "Wie du meinst. Wir merken uns solche Accounts.",
    ],
)
def test_a_veiled_threat_of_record_keeping_is_a_threat(text: str) -> None:
    assert "threat" in blocking(text, ctx("own_brand", post_text=POSTED))


@pytest.mark.parametrize(
    "text",
    [
        "That's completely unacceptable and against our policy, I'm so sorry. DM us today.",
        "Sorry, DM us your order number and we'll keep your booking as it is.",
        "Sorry, DM us. Keep screenshots of the readings you sent, they help.",
        "Sorry, DM us. We take this seriously and will look today.",
    ],
)
def test_siding_with_the_person_is_no_threat(text: str) -> None:
    assert "threat" not in blocking(text, ctx("own_brand", post_text=POSTED))


@pytest.mark.parametrize(
    "text",
    [
        "Sorry, DM us. Do be careful: that allegation is actionable.",
        "Sorry, DM us. This kind of claim is something we'll be passing to legal.",
        "Überleg dir gut, was du behauptest, unsere Rechtsabteilung liest mit.",
    ],
)
def test_legal_language_without_the_word_lawyer_is_a_legal_threat(text: str) -> None:
    assert "legal_threat" in blocking(text, ctx("own_brand", post_text=POSTED))


def test_not_a_lawyer_is_no_legal_threat() -> None:
    text = f"{SORRY} I'm not a lawyer, but the fee should have been shown upfront."
    assert "legal_threat" not in blocking(text, ctx())


def test_court_in_french_is_a_word_for_running_not_a_law_court() -> None:
    # "court" (runs, is short) is everyday French; the English word is still legal language.
    text = "Doubler le prix, c'est dur. Si votre abonnement court encore, gardez l'ancien tarif."
    assert "legal_threat" not in blocking(text, ctx(post_text="Telvana double le prix, 30 €"))
    assert "legal_threat" in blocking("Sorry. See you in court. DM us.", ctx("own_brand"))


def test_a_trial_the_post_speaks_of_is_theirs_not_our_offer() -> None:
    post = "Telvana billed me a whole year after I cancelled the free trial."
    text = "A year's charge after cancelling a trial is awful. Your bank may dispute it."
    assert "offer" not in blocking(text, ctx(post_text=post))
    assert "offer" in blocking(text, ctx(post_text="Telvana billed me twice."))


# --------------------------------------------------------------------------- paraphrases


@pytest.mark.parametrize(
    "text",
    [
        "Sorry about the delay. That's not really accurate though, our stats are average.",
        "Hmm, 'never' isn't quite right: most parcels arrive on the day.",
        "But 'unusable' is a stretch, people run whole companies on it.",
        "We'd disagree with that. DM us and we'll check your plan.",
        "With respect, every customer got a letter. DM us for help.",
        "Bonjour, c'est inexact : écrivez-nous en MP.",
        "Eso no es así: en el sistema consta el aviso. Escríbenos por MD.",
        "Sorry for the stress. The photos show the dent, so the charge stands. DM us.",
        "Sorry to hear it. Just to correct one thing: speeds are averages. DM us.",
        "Nous ne mentons pas, le prix était indiqué. Écrivez-nous en MP.",
        "Wie bereits mehrfach erklärt, dauert es sechs Wochen.",
        "Não mentimos. Para a sua reserva, envie mensagem privada.",
        "Our couriers are careful, so we doubt the box was dropped. DM us.",
    ],
)
def test_contradicting_without_the_word_wrong_is_arguing(text: str) -> None:
    assert "arguing" in blocking(text, ctx("own_brand", post_text=POSTED))


@pytest.mark.parametrize(
    "text",
    [
        "Oh no, the parcel for your sister's birthday. Fingers crossed it turns up. DM us.",
        "Nine days for next-day delivery is a stretch by anyone's measure. DM us.",
        "A fine for using the only machine that worked isn't fair. DM us the details.",
        "Wedding photos can't really be replaced, and I'm so sorry they were lost. DM us.",
        "An heirloom like that cannot really be replaced by a voucher, I know. DM us.",
    ],
)
def test_sympathy_is_not_arguing(text: str) -> None:
    assert "arguing" not in blocking(text, ctx("own_brand", post_text=POSTED))


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} Did you cancel before the billing date though? Then that one's on you.",
        f"{SORRY} Turning roaming off is really the traveller's job.",
        f"{SORRY} Reading the contract would've saved you this, though.",
        "Sorry! Next time, if you tell us before you travel, this won't happen. DM us.",
        "Hallo, dann wäre das ja dein Fehler gewesen. DM uns.",
        f"{SORRY} Always worth triple-checking the spelling at booking though.",
        f"{SORRY} The bank treats it as authorised since you approved it.",
        "Lo sentimos, viene en las condiciones que firmaste. Escríbenos por DM.",
        "Sorry! It looks like the address you entered was missing a flat number. DM us.",
        "Sorry! A bill usually doubles when meter readings aren't sent in. DM us.",
        "The bike was ridden in the rain, which the manual says to avoid.",
    ],
)
def test_putting_it_on_the_person_is_blame(text: str) -> None:
    assert "blames_customer" in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        "I'm sorry. You should have been told about the works before you booked. DM us.",
        "Sorry, you should have had a letter. DM me and I'll check.",
        "Sorry, you should never be signed up for something you didn't choose. DM us.",
    ],
)
def test_saying_we_owed_the_person_better_is_no_blame(text: str) -> None:
    assert "blames_customer" not in blocking(text, ctx("own_brand", post_text=POSTED))


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} Their quality has really gone downhill.",
        f"{SORRY} Telvana's network is held together with sticky tape.",
        f"{SORRY} Telvana and reliability have never met.",
        f"{SORRY} Telvana? Telvanish, more like.",
        f"{SORRY} Aber bei Telvana geht's seit Jahren bergab.",
        "Sorry it dropped again. At least it's not Telvana levels yet. DM us.",
        "Sorry, a waived fee should stay waived. We're not Orbix, we'll sort it. DM us.",
        "Sorry, an hour late. We're still quicker than Telvana on a bad day though! DM us.",
    ],
)
def test_belittling_without_insult_words_disparages(text: str) -> None:
    assert "disparages_competitor" in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} It's not Telvana's fault the storm hit, but they should credit you.",
        f"{SORRY} You paid more than Telvana quoted, so ask them for the difference.",
    ],
)
def test_naming_the_competitor_in_a_plain_comparison_is_no_disparagement(text: str) -> None:
    assert "disparages_competitor" not in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} If you ever fancy moving, you know where to find us.",
        f"{SORRY} Maybe it's time for a provider that answers the phone.",
        f"{SORRY} Next time you book, pick an airline that gets you there.",
        f"{SORRY} Tonight, order from somebody else and see the difference.",
        f"{SORRY} Quizá va siendo hora de cambiarte a otra compañía.",
        f"{SORRY} Talvez seja hora de procurar uma operadora melhor.",
        f"{SORRY} Worth remembering there are couriers who actually ring the bell.",
        f"{SORRY} If they can't cover your home, someone else will.",
        f"{SORRY} You're allowed to leave, you know.",
        f"{SORRY} Maybe your next phone should be one that lasts.",
        f"{SORRY} Il y a peut-être mieux pour vous dans le coin.",
    ],
)
def test_nudges_without_a_listed_verb_are_calls_to_action(text: str) -> None:
    assert "call_to_action" in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        f"{SORRY} Ask Telvana whether a fixed tariff is cheaper, there often is one.",
        f"{SORRY} Telvana's app shows the reason under the payment, worth a look.",
        f"{SORRY} Telvana sometimes offers a trial extension if you ask support.",
    ],
)
def test_advice_about_the_competitors_own_options_is_no_sales_pitch(text: str) -> None:
    assert blocking(text, ctx()) == set()


# --------------------------------------------------------------------------- what a reply must say


@pytest.mark.parametrize(
    "text",
    [
        "Hope your day gets better soon!",
        "Wishing you a smooth rest of the week!",
        "Hang in there, friend.",
        "Happy Friday! Hope it's a good one.",
    ],
)
def test_a_content_free_good_wish_does_not_refer_to_the_problem(text: str) -> None:
    assert "no_reference_to_problem" in blocking(text, ctx())


def test_an_unsettled_reaction_refers_to_the_problem() -> None:
    text = "That's unsettling, especially if you relied on it for something sensitive."
    assert "no_reference_to_problem" not in blocking(text, ctx(post_text="VPN leaked my IP"))


@pytest.mark.parametrize(
    "text",
    [
        "Sorry! Can you open a ticket at support.northwind.gg with your receipt?",
        "Bonjour, si vous m'écrivez en privé votre numéro client, je regarde.",
    ],
)
def test_a_ticket_or_a_private_message_in_any_words_is_a_contact_route(text: str) -> None:
    assert "no_contact_route" not in blocking(text, ctx("own_brand", post_text=POSTED))


@pytest.mark.parametrize(
    "text",
    [
        "Northwind engineer here. Please DM me your device so we can look today.",
        "Great to hear! (Still me, from the Northwind team.) Thanks for the update.",
    ],
)
def test_a_staff_signature_discloses_the_affiliation(text: str) -> None:
    context = ctx("own_brand", post_text=POSTED, first_reply=False, personal_account=True)
    assert "no_disclosure" not in blocking(text, context)


# ------------------------------------------- sympathy that used to read as blame or selling


@pytest.mark.parametrize(
    "text",
    [
        # someone else's failing, or nobody's: no subject that is the person
        "Sentimos muito: se a conta estava paga, o corte nunca devia ter acontecido.",
        "Que chato, o aviso da Telvana devia ter chegado uma semana antes.",
        # what the person never did is the complaint, not their fault
        "Being charged for a plan you never picked is maddening. Ask Telvana for the log.",
        "Being told you owe money when you don't is awful. Ask for a written balance.",
        # "you should have been <done to>": what others owed the person
        "Sorry, asking for a supervisor is fine and you should have been put through.",
        # what the person was told, repeated in sympathy
        "Being told you should have cancelled sooner would annoy anyone. Ask your bank.",
        "Autofill picking the wrong payee and then being told it's on you is rough.",
        # negated: "it is not your fault"
        "Si llegó descongelado, no es culpa tuya; ojalá Telvana lo reconozca.",
        "Si llegó así, no es tu culpa. Ojalá te devuelvan el dinero.",
        "Não é culpa sua se o pacote chegou aberto. Espero que resolvam logo.",
        "Das ist nicht Ihre Schuld, wenn die Lieferung zu spät kam. Viel Glück.",
    ],
)
def test_sympathy_that_names_the_person_is_not_blame(text: str) -> None:
    assert "blames_customer" not in blocking(text, ctx())


@pytest.mark.parametrize(
    "text",
    [
        "Sorry, but you should have been more careful with the code.",
        "You never set up autopay, which is why the line was cut.",
        "You didn't read the terms, so the fee applies.",
        "Es tu culpa por no leer las condiciones.",
        "Você devia ter lido o contrato antes de assinar.",
        "That's on you, I'm afraid: the router was unplugged.",
    ],
)
def test_blame_in_its_plain_forms_is_still_blame(text: str) -> None:
    assert "blames_customer" in blocking(text, ctx("own_brand", first_reply=False))


@pytest.mark.parametrize(
    "text",
    [
        "Nobody said a word about the data cap at signup, that's rough. Hope Telvana explains.",
        "Three charges from one checkout is an awful bug. Hope the extras come back fast.",
        "A fee that jumps at checkout feels like a trick. Screenshots would help with Telvana.",
        "Signing up for the pool and finding it shut for weeks is a raw deal. Ask for a freeze.",
        "Pagar ahora por algo que era gratis antes fastidia. Ojalá avisaran con tiempo.",
        "Uma tarifa numa conta que era para ser gratuita, sem aviso, irrita qualquer um.",
        "Quedarse sin tarjeta a mitad de viaje es angustioso. Ojalá la desbloqueen pronto.",
    ],
)
def test_a_word_that_describes_what_happened_is_no_call_to_action_or_offer(text: str) -> None:
    assert not blocking(text, ctx()) & {"call_to_action", "offer", "discount"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Sorry about the outage. Sign up today and get a month free.", "call_to_action"),
        ("Sorry about the outage. Checkout our fibre plans.", "call_to_action"),
        ("Lo siento. Con nosotros la instalación te sale gratis.", "offer"),
        ("Lo siento. Hoy todo a mitad de precio con nosotros.", "discount"),
    ],
)
def test_selling_words_still_sell(text: str, code: str) -> None:
    assert code in blocking(text, ctx())


def test_drawing_the_consequences_in_french_is_no_threat() -> None:
    text = "Désolés pour la ligne. Écrivez-nous en MP : on en tire les conséquences sur l'offre."
    assert "threat" not in blocking(text, ctx("own_brand", post_text=POSTED))
    threat = "Retirez ce message, sinon il y aura des conséquences."
    assert "threat" in blocking(threat, ctx("own_brand", post_text=POSTED))
