"""The tone guard's lexicon: the regular expressions it matches, and nothing else.

Most patterns run on the normalised view (``normalise.prepare``): lower case,
Latin letters, spacing undone. ``PROMO_TOKEN``, ``PLACEHOLDER``, ``EMOJI_RUN``,
``EXCLAIM_RUN`` and ``URL_FOR_LENGTH`` run on the original text, where capitals,
brackets and emoji are still there. Which code each pattern feeds is said in
``rules``.
"""

from __future__ import annotations

import regex

# Common generic and country TLDs. English words that are also TLDs and turn up
# after a full stop without a space ("fixed.now", "broken.is") are left out.
TLDS = (
    "com|net|org|io|co|ly|app|dev|ai|uk|de|fr|eu|ca|au|nl|es|ie|nz|za|info|biz|tv|gg|xyz|"
    "site|online|shop|store|link|page|tech|cloud|fibre|fiber|mobi|gl|gd|cc|ws|su|ru|to|help|"
    "support|services|network|digital|email|blog|club|website|space|media|pro|deals|"
    "broadband|mobile|tel|guide|reviews|compare|money|pt|br|mx|ch"
)

# X wraps every link it recognises, bare domains included, in a t.co link.
URL_FOR_LENGTH = regex.compile(
    r"(?:https?://|www\.)[^\s<>\"]+|\b(?:[a-z0-9-]+\.)+(?:com|net|org|io|co|ly|me|app|dev|ai|"
    r"uk|de|fr|eu|us|ca|au|info|biz|tv|gg|xyz|site|online|shop|store|link)\b(?:/[^\s<>\"]*)?",
    regex.IGNORECASE,
)
HASHTAG = regex.compile(r"#\s?([\w@$]+(?:[-_][\w@$]+)*)")

# The normalised view is casefolded, so its patterns are matched case-sensitively:
# IGNORECASE would only cost time (about half of it on the long alternations).
FLAGS = regex.VERSION1


def _rx(*alternatives: str) -> regex.Pattern[str]:
    return regex.compile("|".join(f"(?:{a})" for a in alternatives), FLAGS)


CURRENCY_WORDS = (
    r"dollars?|bucks|quid|euros?|pounds?|usd|eur|gbp|cents?|pence|yen|rupees?|francs?|"
    r"a\s+month|per\s+month|a\s+mo|per\s+mo|/\s*mo(?:nth)?|pcm|p/m|monthly|a\s+year|per\s+year|"
    r"/\s*yr|/\s*year|a\s+week|per\s+week|/\s*wk|"
    # es, fr, de, pt periods and currencies; per-unit prices ("12 p/kWh", "0,25 €/kWh")
    r"(?:por|al|ao|par|pro|im|cada)\s+(?:mes|mois|monat|ano|an|jahr|semana|semaine|woche)|"
    r"/\s*(?:mes|mois|monat|ano|an|jahr)|mensuales?|mensuel\w*|monatlich|mensais?|reais|"
    r"(?:p|c|ct|cts|cents?|pence)\s*/\s*(?:kwh|kw|gb|min|minute|mb|l|litre|liter)"
)
NUM = r"\d+(?:[.,]\d+)*"
WORDNUM = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|a\s+hundred|hundred|a\s+few|a\s+couple|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
PRICE = _rx(
    r"[$\u20ac\u00a3\u00a5\u20b9\u20a9\u20bd\u00a2]\s*" + NUM,
    NUM + r"\s*[$\u20ac\u00a3\u00a5\u20b9\u20a9\u20bd\u00a2]",
    NUM + r"\s*(?:k\s+)?(?:" + CURRENCY_WORDS + r")\b",
    r"\b" + WORDNUM + r"\s+(?:dollars|bucks|quid|euros|pounds)\b",
    r"\bfor\s+(?:totally\s+|completely\s+|absolutely\s+)?free\b",
    r"\bfree\s+(?:of\s+charge|installation|install|setup|set-up|router|sim|phone|upgrade|"
    r"delivery|shipping|gift|data|minutes|calls|for\s+(?:a|the|your|\d|one|two|three|six|"
    r"twelve|life))\b",
    r"\b(?:is|are|it's|its|totally|completely|100%|100\s*percent)\s+free\b(?!\s+(?:to|time|of\s+"
    r"(?:bugs|errors|problems|issues)))",
    r"\bno\s+(?:setup|set-up|installation|activation|hidden|monthly)\s+(?:fees?|charges?|costs?)\b",
    r"\b(?:cost|costs|only|just|from|starting\s+at|pay)\s+" + NUM + r"\s*(?:a|per|/)\s*"
    r"(?:month|mo|year)\b",
    r"\bprice[sd]?\s+(?:at|from|starting)\b",
)
DISCOUNT = _rx(
    NUM + r"\s*(?:%|percent|per\s*cent|pct)\s*(?:off|discount|less|cheaper|savings?)\b",
    r"\b(?:half|50%)\s*(?:-\s*)?(?:price|off)\b",
    r"\bdiscount(?:s|ed)?\b",
    r"\bcheaper\b(?!\s+than\s+(?:compensation|a\s+refund|refunding|paying\s+out|fixing))",
    r"\bsave\s+(?:up\s+to\s+|over\s+|big|money|a\s+lot|loads|heaps|" + NUM + r"|"
    r"[$\u20ac\u00a3\u00a5])",
    r"\bprice\s*(?:match|beat|cut|drop|guarantee|lock)",
    r"\bcash\s*-?\s*back\b",
    r"\b(?:lower|better|best|great|unbeatable)\s+(?:prices?|rates?|deals?)\b",
    r"\b(?:half|a\s+third\s+of|a\s+fraction\s+of)\s+(?:the\s+)?(?:usual|normal|regular|standard)?"
    r"\s*(?:price|rate|cost)\b",
    r"\bbogo\b|\b(?:2|two)\s+for\s+(?:1|one)\b",
    r"\bon\s+sale\b|\bsale\s+(?:now|on|ends)\b",
    r"\b(?:beat|undercut|cut|lower|reduce|knock|bring)\w*\b.{0,40}?\bby\s+(?:" + NUM + r"\s*"
    r"(?:%|percent|per\s*cent)|[$\u20ac\u00a3\u00a5]\s*\d|half|a\s+third|a\s+quarter)",
    # a percentage next to a word of reduction, in either order
    NUM + r"\s*(?:%|percent|per\s*cent)[^.!?]{0,30}?\b(?:off|knocked|cheaper|less|lower|"
    r"discount|saving|savings|back|reduc\w*)\b",
    r"\b(?:save|saving|knock\w*|cut|reduc\w*|discount\w*)\b[^.!?]{0,30}?"
    + NUM
    + r"\s*(?:%|percent|per\s*cent)",
    r"\b(?:beat|undercut|match)\s+(?:your|their|the|any)\s+(?:current\s+)?(?:bill|price|deal|"
    r"quote|offer|tariff)\b",
    # "-30 %": a percentage with a minus sign is a reduction
    r"(?<![\w.,])-\s?" + NUM + r"\s*%",
    r"\bhalf\s+(?:off|price)\b|\b(?:a\s+)?(?:third|quarter)\s+off\b",
    # es, fr, de, pt: a percentage next to a word of reduction, in either order
    NUM + r"\s*(?:%|por\s+ciento|pour\s+cent|prozent|por\s+cento)\s*(?:de\s+)?(?:menos|"
    r"descuento|de\s+descuento|rebaja|remise|de\s+remise|reduction|de\s+reduction|rabatt|"
    r"gunstiger|billiger|weniger|desconto|de\s+desconto|mais\s+barato|sur\s+(?:le|la|les|votre|"
    r"vos|ton|ta)|en\s+(?:tu|su|la|el)|auf\s+(?:den|die|das|deine|ihre)|na\s+(?:sua|tua|"
    r"mensalidade|fatura)|da\s+(?:sua|tua|mensalidade|fatura))\b",
    r"\b(?:descuento|rebaj\w*|ahorr\w*|quitamos|te\s+quitamos|remise|reduction|on\s+(?:retire|"
    r"enleve)|economis\w*|rabatt\w*|spar\w*|nachlass|desconto|tira\w*|economiz\w*|reduz\w*|"
    r"reduc\w*)\b[^.!?]{0,30}?" + NUM + r"\s*(?:%|por\s+ciento|pour\s+cent|prozent|por\s+cento)",
    r"\b(?:on\s+retire|on\s+enleve|cortamos|recortamos|rebajamos|descontamos|wir\s+ziehen)\b[^.!?]"
    r"{0,40}?\b(?:sur|na|no|en|de|auf|von)\s+(?:le|la|votre|sua|tua|tu|su|der|die|deine|ihre|o)\s+"
    r"(?:\w+\s+)?(?:premier|premiere|primeiro|primeira|primer|fatura|factura|facture|rechnung|"
    r"mensualite|mensalidade|cuota|trajet|abonnement|tarif|tarifa)\b",
    r"\b(?:a\s+(?:la\s+)?mitad(?!\s+del?\b)|mitad\s+de\s+precio|moitie\s+prix|a\s+moitie|halbe[nr]?\s+"
    r"preis|zum\s+halben|pela\s+metade|metade\s+do\s+preco|meio\s+preco)\b",
)
OFFER = _rx(
    r"\b(?:special|exclusive|limited|introductory|welcome|switching|switcher|loyalty|"
    r"new\s+customer|sweet|amazing|great)\s+(?:offers?|deals?|bonus|rates?|pricing|packages?)\b",
    r"\blimited[\s-]+time\b",
    r"(?<!-)\bfree\s+(?:trial|month|months|weeks?|upgrade|plan|shipping|delivery|returns?|tier)\b|"
    r"\b(?:ship|deliver)\w*\s+(?:for\s+)?free\b|\bwith\s+your\s+name\s+on\s+it\b",
    r"\b(?:first|1st|next|two|three|six|\d+)\s+months?\s+(?:free|on\s+us|half)\b",
    r"\b(?:on\s+the\s+house|on\s+us)\b",
    r"\b(?:we|i)\s*(?:can|could|'d|would|will|'ll)\s+(?:love\s+to\s+)?"
    r"(?:offer|give|get)\s+you\b",
    r"\b(?:trial|sign-?up\s+bonus|welcome\s+gift|bonus\s+data)\b",
    r"\bwe\s+(?:do|offer|have|provide|sell|'ve\s+got)\s+(?:a|an|some|plans?|deals?|fixed|"
    r"cheap|great|genuine|unlimited|fibre|broadband|packages?|bundles?)\b",
    r"\bgot\s+a\s+deal\b|\bdeal\s+for\s+you\b|\bhave\s+(?:a|an)\s+(?:offer|deal)\b",
    # es, fr, de, pt: free things, gifts, "on us", no-obligation quotes
    r"\b(?:primer|premier|erste[rn]?|primeiro)\s+(?:mes|mois|monat|ano|an|jahr)\s+(?:\w+\s+){0,2}?"
    r"(?:gratis|gratuit\w*|kostenlos|offert)\b",
    # "free" said of something in general ("the ombudsman is free") offers nothing
    r"(?<!\b(?:est|es|e|ist|sont|son|sao|como|comme|als|sind|era|eran|fue|fueron|foi|eram|"
    r"etait|etaient|war|waren|ser)\s)"
    r"\b(?:gratis|gratuit[oa]?s?|gratuites?|kostenlos\w*|umsonst|geschenkt|de\s+regalo|"
    r"de\s+presente|cadeau\s+de\s+la\s+maison|c'est\s+cadeau|on\s+vous\s+offre|nous\s+vous\s+"
    r"offrons|offert[es]?|te\s+regalamos|le\s+regalamos|os\s+regalamos|sin\s+compromiso|sans\s+"
    r"engagement|unverbindlich\w*|sem\s+compromisso|(?:te|le)\s+(?:damos|ofrecemos)|"
    r"(?:te|lhe)\s+(?:da|damos|oferecemos)|wir\s+schenken|schenken\s+(?:dir|ihnen))\b",
)
PROMO = _rx(
    r"\b(?:promo|promotional|discount|coupon|voucher|referral|offer|invite|gift|bonus)"
    r"\s*-?\s*codes?\b",
    r"\bpromo(?:code)?s?\b",
    r"\b(?:use|enter|apply|try|redeem|quote)\s+(?:the\s+|my\s+|our\s+|this\s+)?"
    r"codes?\b",
    r"\b(?:cupom|cupon|cupones|gutschein\w*|rabattcode\w*|aktionscode\w*|codigo\s+(?:de\s+)?"
    r"(?:promocional|descuento|desconto)|code\s+(?:promo|de\s+reduction|remise)|bon\s+de\s+"
    r"reduction)\b",
    r"\bcode\s*[:=]\s*[a-z0-9]{3,}",
    r"\breferral\s+(?:link|bonus)\b|\bref\s+link\b",
)
# A code in capitals after a verb that hands it over ("quote NOWIFI"), on the original text.
PROMO_TOKEN = regex.compile(
    r"\b(?i:quote|use|enter|apply|mention|type|redeem)\s+(?i:code\s+)?[\"']?[A-Z][A-Z0-9]{3,}\b"
)
# A voucher or coupon by name: a travel voucher the post speaks of is theirs, not ours.
VOUCHER = regex.compile(r"\b(?:vouchers?|coupons?)\b", FLAGS)
# A code in capitals after a word for a code ("el cupón CUIDADO15", "Code BIZSTART"), a
# code with digits after a verb that hands it over ("Mit BLITZ20", "redeem QL-WELCOME-26")
# or before the checkout ("CHANTIER10 à la caisse"); on the original text.
_CAPS_CODE = r"[\"'\u00ab\u201c]?([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\b"
_DIGIT_CODE = (
    r"[\"'\u00ab\u201c]?((?=[A-Z0-9-]*\d)(?=(?:[A-Z0-9-]*[A-Z]){3})[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\b"
)
CODE_TOKEN = regex.compile(
    r"(?i:\b(?:promo\s*code|promo|code|codes|cupom|cup[o\u00f3]n|coupon|voucher|gutschein"
    r"(?:-?code)?|c[o\u00f3]digo|rabattcode|aktionscode))\s*:?\s+" + _CAPS_CODE + r"|"
    r"(?i:\b(?:use|using|usa|usez|utilisez|utilise|nutze|nutz|redeem|enter|apply|with|mit|con|com|"
    r"avec|quote|type|gib|tippe|digite|introduce)(?:\s+(?:the|el|la|le|o|a|den|dem|die))?)\s+"
    + _DIGIT_CODE
    + r"|"
    r"(?i:from\s+us|von\s+uns|de\s+nuestra\s+parte|de\s+notre\s+part|da\s+nossa\s+parte|"
    r"de\s+nossa\s+parte)\s*:\s*" + _CAPS_CODE + r"|"
    r"(?<![\w-])((?!COVID)[A-Z]{4,}\d{2,3})(?![\w-])|"
    r"\b((?=[A-Z0-9-]*\d)(?=(?:[A-Z0-9-]*[A-Z]){3})[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\s+(?i:at\s+"
    r"checkout|(?:a|\u00e0)\s+la\s+caisse|au\s+paiement|an\s+der\s+kasse|beim\s+(?:bezahlen|"
    r"checkout)|en\s+(?:caja|el\s+checkout)|al\s+pagar|no\s+checkout|na\s+finaliza\w+)"
)
# An error, order or booking code is no promo code.
NOT_PROMO = regex.compile(
    r"(?i:error|errors|fehler|erreur|fault|reference|ref|booking|order|tracking|confirmation|"
    r"ticket|case|account|pedido|commande|bestell\w*|reserva|dossier)\W+(?:(?:code|number|no|nr|n|"
    r"numero|nummer|id|the|a|an|with|your)\W+){0,2}$"
)
SHORTENERS = (
    r"bit\s*\.\s*ly|bitly|t\.co|tinyurl|tiny\.cc|goo\.gl|ow\.ly|is\.gd|buff\.ly|rebrand\.ly|"
    r"cutt\.ly|shorturl|lnkd\.in|t\.ly|rb\.gy|s\.id|v\.gd|qr\.io|linktr\.ee|linktree|bl\.ink|"
    # messaging apps' links: Telegram, WhatsApp, Messenger
    r"t\.me|wa\.me|m\.me|telegram\.me"
)
LINK = _rx(
    r"\b(?:https?|hxxps?|ftp)\s*:\s*/\s*/\S*",
    r"\bwww\s*\.\s*\S+",
    r"\b(?:" + SHORTENERS + r")\b\S*",
    # bare domains: at least one label, a known TLD, then not a letter
    r"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:" + TLDS + r")(?![a-z0-9])(?:/\S*)?",
    # any other domain followed by a path ("fibrecheck.me/telvana"): the path gives it away
    r"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.[a-z]{2,6}/[\w-]\S*",
    r"\blink\s+(?:is\s+)?in\s+(?:my\s+|our\s+|the\s+)?(?:bio|profile|description)\b",
    r"\b(?:click|tap|hit|follow)\s+(?:the|this|my|our)\s+link\b|\blink\s+below\b",
    r"\[[^\]]*\]\([^)]*\)",
)
# Kinds of business a reply may hint the person should move to.
_BUSINESSES = (
    r"(?:airlines|couriers|phones|banks|gyms|apps|games|providers|suppliers|networks|companies|"
    r"platforms|services|options|plans|brands|shops|stores|insurers|carriers|operators|studios|"
    r"tools|delivery\s+apps|payment\s+apps|rental\s+apps|choices)"
)
CTA = _rx(
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
    # "at signup", "since sign-up", "Signing up for the gym and finding it shut" describe
    # what happened; an invitation is a verb.
    r"(?<!\b(?:at|during|on|upon|since|before|after|from|when|the|your|my|of)\s)(?:\bsign\s*-?\s*up\b|"
    r"(?<!(?:^|[.!?]\s*))\bsigning\s+up\b)(?!\s+for\s+(?:this|that))|\bsubscribe\b|"
    r"\bjoin\s+(?:us|our|the)\b",
    r"\b(?:d\s?m|pm|message|inbox|dm's|text|email|e-mail|call|ring|phone|ping|contact|"
    r"whatsapp|reach|hit)\s+(?:us|me)\b",
    r"\b(?:send|drop|shoot)\s+(?:us|me)\s+(?:a\s+)?(?:dm|pm|message|line|note|email|e-mail|text)\b",
    r"\b(?:dms?|inbox|messages)\s+(?:are|is)\s+(?:always\s+)?open\b|\bslide\s+into\b",
    r"\breach\s+out\b|\bget\s+in\s+touch\b|\bhit\s+us\s+up\b|\bfind\s+us\s+(?:at|on)\b",
    r"\bcheck(?:ing)?\s+(?:us|our)\b|\bcheck\s+(?:it\s+)?out\s+(?:our|us|what|the\s+new)\b|"
    r"(?<!\b(?:at|the|one|a|from|during|of|same|your|my|online)\s)\bcheckout\b",
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
    # nudges without a verb from the list: "you know where to find us", "maybe it's time
    # for a bank that...", "next time book with people who...", "order from somebody else"
    r"\byou\s+know\s+where\s+(?:to\s+find\s+us|we\s+are|we\s+live|our\s+door\s+is)\b|\btime\s+for\s+an?\s+(?:\w+\s+){0,2}?(?:that|which|"
    r"who|whose)\b|\b(?:good\s+)?(?:time|moment)\s+to\s+(?:compare|switch|shop|look\s+at|give|move|"
    r"try)\b|\bnext\s+(?:time|trip|road\s+trip|order|booking|quarter|holiday)\b[^.!?]{0,20}?\b(?:book|"
    r"pick|rent|order|choose|fly|go\s+with|use\s+(?:a|another|someone))\b|\b(?:order|rent|book|buy|"
    r"shop|fly|bank)\s+(?:from|with)\s+(?:somebody|someone|a\s+place|people|a\s+company|an\s+airline|"
    r"a\s+provider)\b|\bgive\s+(?:a\s+different|another|other|the\s+other|one|an?\s+alternative|"
    r"someone\s+else)\s+(?:\w+\s+){0,2}?a\s+(?:go|spin|try|shot|whirl)\b|\bcome\s+(?:play|try|see|"
    r"shop|fly|bank|stream)\b|\bthere\s+are\s+(?:\w+\s+)?(?:services|providers|banks|apps|airlines|"
    r"companies|networks|studios|platforms|options)\s+(?:out\s+there\s+)?(?:that|which|who)\b|"
    r"\bworth\s+(?:downloading|looking\s+at|moving|thinking\s+about\s+who|switching|comparing|"
    r"shopping)\b|\b(?:switching|moving\s+(?:provider|bank|supplier))\s+(?:takes|is\s+(?:painless|"
    r"easy|quick))\b|\bthink\s+about\s+(?:moving|switching|leaving)\b|\bif\s+you\s+(?:ever\s+)?"
    r"fancy\s+(?:moving|switching|a\s+change)\b|\bhopping\s+over\b",
    # other businesses exist, hinted: "there are couriers who ring", "someone else will"
    r"\b(?:there\s+are|there's|you\s+know\s+there\s+are)\s+(?:other|plenty\s+of|lots\s+of|loads\s+of|"
    r"some|better)\s+(?:other\s+)?"
    + _BUSINESSES
    + r"\b|\b(?:other|plenty\s+of|more)\s+"
    + _BUSINESSES
    + r"\s+"
    r"(?:that|who|which|whose|out\s+there|exist)\b|\b"
    + _BUSINESSES
    + r"\s+(?:that|who|whose)\s+[^.!?]{0,40}?"
    r"\bexist\b|\b(?:someone|somebody)\s+else\s+(?:will|would|could|can)\b|\bby\s+someone\s+else\b|"
    r"\bwho\s+else\s+(?:could|delivers|is|does|supplies|covers)\b|\bwhat\s+else\s+is\s+(?:near|out|"
    r"available)\b|\b(?:live|keep\s+it|go)\s+somewhere\s+(?:else|that)\b|\bsome\s+of\s+us\s+"
    r"(?:actually|just|include|don't)\b|\byou're\s+allowed\s+to\s+leave\b|\bwhy\s+stay\s+with\b|"
    r"\byou're\s+not\s+short\s+of\b|\bplenty\s+of\s+choice\b|\b(?:there's|is)\s+better\s+out\s+"
    r"there\b|\bnot\s+all\s+\w+\s+(?:is|are)\s+like\s+this\b|\bdoesn't\s+have\s+to\s+be\s+(?:like\s+"
    r"this|this\s+hard)\b|\byou\s+know\s+what\s+to\s+do\b|\bhint,?\s+hint\b|\bjust\s+saying\b|"
    r"\bis\s+all\s+i'm\s+saying\b|\bthat's\s+all\s+i'll\s+say\b|\bjust\s+a\s+thought\b|\bsomething\s+"
    r"to\s+think\s+about\b|\btake\s+that\s+as\s+a\s+cue\b|\bever\s+wondered\s+what\b|\bthought\s+"
    r"about\s+who\s+else\b|\bworth\s+(?:asking\s+yourself|asking\s+whether\s+your|remembering|"
    r"a\s+think)\b|\buniverse\s+is\s+telling\s+you\b|\byour\s+next\s+\w+\s+(?:should|might|could)\b|"
    r"\bmaybe\s+your\s+\w+\s+deserve\b|\bdeserves?\s+a\s+home\s+that\b|\bthere\s+(?:has|have|'s\s+got)"
    r"\s+to\s+be\s+(?:a\s+better|an?\s+\w+\s+out\s+there)\b|\bshould\s+fly\s+with\b",
    r"\b(?:ya\s+sabes\s+donde\s+estamos|ha\s+llegado\s+el\s+momento|probar\s+con\s+otra|buen\s+"
    r"momento|vaut\s+le\s+coup\s+de\s+regarder|il\s+y\s+a\s+(?:peut-etre\s+)?mieux|passer\s+chez|"
    r"guter\s+moment|umzuschauen|nachstes\s+mal\s+vielleicht|da\s+uma\s+chance\s+(?:pra|para)\s+"
    r"outr|opcao\s+melhor|connosco)\b",
    r"\b(?:ya\s+sabes\s+donde\s+encontrarnos|(?:va\s+siendo|es)\s+(?:hora|momento)\s+de\s+(?:cambiar\w*|"
    r"mirar|buscar|probar)|vous\s+savez\s+ou\s+nous\s+trouver|passer\s+par\s+quelqu'un\s+d'autre|"
    r"fait\s+mes\s+cartons|on\s+sera\s+la|il\s+existe\s+des\s+\w+\s+qui|ob\s+es\s+anbieter\s+gibt|"
    r"kontowechsel|anbieterwechsel|einen\s+anderen\s+(?:dienst|anbieter)|rubergekommen|nase\s+voll|"
    r"weisst,?\s+wo\s+du\s+uns\s+findest|hora\s+de\s+(?:procurar|mudar|trocar)|portabilidade|"
    r"da\s+proxima\s+vez\s+escolha|vontade\s+de\s+mudar|porta\s+(?:\w+\s+){0,2}sempre\s+aberta|"
    r"sabe\s+onde\s+nos\s+encontrar)\b",
)
# On a first reply to a competitor's customer the reply is about them: any "we",
# "our" or "us" that is not shared sympathy ("we're so sorry", "we've all been
# there", "our thoughts are with you") is us talking about ourselves.
SELF_PROMOTION = _rx(
    r"\bwe(?:'(?:re|ve|d|ll))?+(?![\w'])(?!\s+(?:are\s+|were\s+|all\s+|both\s+)?(?:so\s+|really\s+|very\s+|"
    r"truly\s+|genuinely\s+|just\s+)?(?:sorry|all|both|hope|hoping|feel|know\s+(?:how|that)|"
    r"rooting|thinking|wish|been\s+there))",
    r"\bour\s+(?!(?:condolences|sympathies|thoughts|hearts|sympathy)\b)\w+",
    r"\b(?:with|to|from|join|contact|message|call|at|choose|pick|try|ask|tell|let|give|"
    r"send|ping|dm|email|ring)\s+us\b|\bours\b",
)
# A verb of action right before our own name ("come to Northwind", "go with NW")
# is a call to action even when the sentence is otherwise harmless.
CTA_BEFORE_BRAND = regex.compile(
    r"\b(?:try|trying|come\s+(?:over\s+)?to|switch\s+to|move\s+to|go\s+(?:with|for)|look\s+at|"
    r"check|join|choose|pick|get|consider|ask|message|dm|call|visit|with|"
    # es, fr, de, pt: "pásate a", "passez chez", "wechsle zu", "vem pra"
    r"(?:cambiate|pasate|vente|prueba|contrata)\s+(?:a|con)|(?:passez|venez|essayez)\s+(?:chez|a)|"
    r"(?:wechsle|wechseln\s+sie|komm|probier)\s+(?:doch\s+)?(?:zu|mal)|"
    r"(?:vem|venha|muda|mude|passa|experimente)\s+(?:pra|para|a))\s+(?:out\s+)?(?:the\s+)?$",
    FLAGS,
)
FOLLOW = _rx(
    r"\bfollow(?:ing)?\s+(?:us|me|our|my|back|for|along|@|\w+\s+for\s+(?:more|updates|tips))\b",
    r"\bfollow\s+@",
    r"\bgive\s+(?:us|me|our\s+\w+)\s+a\s+follow\b|\bhit\s+(?:the\s+|that\s+)?follow\b",
    r"\bsmash\s+(?:the\s+|that\s+)?(?:follow|subscribe)\b|\bf4f\b|\bfollow\s+4\s+follow\b",
    r"\bfollow\s+(?:northwind|nw)\b",
    r"\b(?:tap|hit|smash|click|press)\s+(?:the|that|our)\s+follow\b|\bfollow\s+button\b|"
    r"\bdale\s+a\s+seguir\b|\bclique\s+em\s+seguir\b",
)
LEGAL = _rx(
    r"\bsu(?:e|ed|ing)\b(?!\s*(?:de|ellen))",
    r"\blaw\s*suits?\b|(?<!not\s+an?\s+)\blawyers?\b|\bactionable\b|\b(?:to|with)\s+(?:our\s+)?"
    r"legal\b(?!\s+(?:aid|advice|rights|age|limit))|(?<!\byour\s+(?:\w+\s+or\s+)?)\b(?:attorneys?|solicitors?)\b|\blegal\s+(?:action|team|"
    r"department|dept|steps|proceedings|counsel|advice|route|means)\b",
    r"\bdefamat\w*|\blibel\w*|\bslander\w*|\bcease\s+and\s+desist\b",
    r"\bcourt\b|\blitigat\w*|\bpress\s+charges\b|\bsmall\s+claims\b|\bclass\s+action\b",
    r"\b(?:hear|be\s+hearing)\s+from\s+(?:our|my)\s+(?:lawyers|legal)\b",
)
THREAT = _rx(
    r"\b(?:you(?:'ll|\s+will)|you're\s+going\s+to|you\s+are\s+going\s+to)\s+(?:regret|be\s+sorry|"
    r"pay\s+for)\b",
    r"\b(?:we|i)\s*(?:will|'ll|are\s+going\s+to|can|could|may)\s+(?:have\s+to\s+)?"
    r"(?:report|ban|block|suspend|expose|disconnect|cut\s+off|terminate|close)\s+"
    r"(?:you|your)\b",
    r"\b(?:we|i)\s*(?:will|'ll)\s+(?:take|be\s+taking)\s+(?:action|measures|steps)\b",
    r"\bor\s+else\b|\bwatch\s+(?:yourself|your\s+back|your\s+mouth|what\s+you\s+(?:say|post))\b",
    r"\b(?:be\s+careful|think\s+twice)\s+(?:about\s+)?what\s+you\s+(?:say|post|write)\b",
    # "consequences", French "conséquences" too (accents are gone by now), but not French
    # "en tirer les conséquences" (to draw conclusions)
    r"\bwe\s+know\s+where\s+you\b|(?<!\btir\w*\s+(?:les|des|toutes\s+les)\s)\bconsequences\b|"
    r"\bfinal\s+warning\b|\blast\s+warning\b",
    r"\b(?:have|get)\s+(?:your|this|that)\s+(?:post|account|tweet|toot|comment)\s+"
    r"(?:removed|taken\s+down|deleted|suspended|banned)\b",
    r"\breport(?:ed|ing)?\s+(?:your|this)\s+(?:account|profile|post)\b",
    r"\b(?:get|have)\s+you\s+(?:reported|banned|blocked|suspended|cut\s+off|disconnected|removed)\b",
    r"\bwe\s+have\s+your\s+(?:address|details|information)\b",
    r"\b(?:may|could|will|might|can)\s+(?:lead|result)\s+(?:to|in)\s+(?:disconnection|"
    r"suspension|termination|closure|action|legal|your|the\s+(?:closure|termination))\b",
    # "that's unacceptable and against our policy" sides with the person
    r"(?<!(?:unacceptable|wrong|not\s+ok|not\s+okay)\s+(?:and\s+)?(?:completely\s+|totally\s+)?)"
    r"\bagainst\s+our\s+(?:terms|policy|policies|rules|fair\s+use|acceptable\s+use)\b",
    r"\bwe\s+(?:monitor|track|watch|log|record|keep\s+an\s+eye\s+on)\s+(?:\w+\s+){0,4}?"
    r"(?:posts?|accounts?|you|what\s+you)\b",
    r"\bact\s+on\s+(?:them|these|those|such\s+posts)\b",
    # veiled: we keep records of you, we know who you are, think twice
    r"\b(?:we|we've|we\s+have|we\s+do|i've)\s+(?:\w+\s+)?(?:keep|kept|keeping|take|taken|took|"
    r"logged|noted|recorded|saved|stored|hold|holding)\s+(?:a\s+|all\s+)?(?:screenshots?|"
    r"records?|notes?|track|your|a\s+copy|copies|everything)\b(?!\s+(?:order|booking|"
    r"reference|feedback|complaint|case|details\s+to\s+(?:sort|fix|refund)|of\s+(?:calls|your\s+"
    r"(?:calls?|orders?|bookings?|payments?))|(?:\w+\s+)?too,?\s+so))",
    r"\b(?:we|i)\s+(?:know|have|hold)\s+(?:exactly\s+)?(?:your|which|who\s+you|where\s+you)\s*"
    r"(?:\w+\s+){0,2}?(?:address|details|information|data|account\s+details|on\s+file|are)\b"
    r"(?!\s+(?:to|so|and\s+(?:will|we'll)))",
    r"\b(?:our\s+\w+|we)\s+know\s+(?:your|where\s+you)\b",
    r"\b(?:think|thinking)\s+(?:twice|carefully)\s+(?:before|about)\b|\bcome\s+back\s+to\s+"
    r"bite\s+you\b|\b(?:would|it'd)\s+be\s+a\s+shame\s+if\b|\bdon't\s+be\s+surprised\s+if\b|"
    r"\brarely\s+ends\s+well\b|\bhave\s+a\s+way\s+of\s+getting\s+around\b|\bwe\s+remember\s+"
    r"(?:\w+\s+)?(?:who|that)\b|\bjust\s+remember\s+(?:we|our)\b|\bremember\s+we're\s+the\b",
    r"\b(?:noted|logged|flagged)\s+your\s+(?:account|handle|username|user|name|profile|id|"
    r"player\s+id)\b|\bwe've\s+(?:noted|logged|flagged)\s+(?:your|this)\b",
    r"\bwould\s+hate\s+for\s+that\s+to\b|\b(?:checking|look\s+at)\s+your\s+(?:\w+\s+){0,2}"
    r"(?:history|membership|account)\s+(?:\w+\s+){0,2}(?:closely|more\s+closely|as\s+part\s+of\s+"
    r"the\s+review)\b|\bscreenshots\s+(?:\w+\s+){0,4}sichern\b|"
    r"\b(?:made|make|making)\s+a\s+note\s+of\s+your\b|\bsaved\s+this\s+(?:conversation|thread|"
    r"exchange)\b|\b(?:team|we|staff)\s+(?:keeps?|kept)\s+screenshots\b|\beverything\s+you've\s+posted\s+on\s+file\b|"
    r"\bsubject\s+to\s+our\s+conduct\b|\baccounts?\s+can\s+be\s+reviewed\b|\b(?:claims?|accusations?|"
    r"allegations?|calling\s+us\s+\w+)\b[^.!?]{0,50}?\b(?:taken|takes)\s+(?:very\s+)?seriously\b|"
    r"\bcan\s+lead\s+to\s+a\s+ban\b|\bcomplicate\s+the\s+review\b|\bwe'd\s+hate\s+for\s+that\s+to\s+"
    r"happen\b|\bwe'll\s+remember\s+that\b|\btwo\s+can\s+play\b|\bwe\s+can\s+see\s+which\b|"
    r"\bwe'll\s+see\s+who\b|\bread\s+by\s+every\b|\bcheck\s+that\s+reviewers\b|"
    r"\b(?:guardamos\s+copia|queda\s+registrad\w*|tenemos\s+memoria|garde\s+un\s+oeil|archivons\s+tous|"
    r"on\s+sait\s+(?:tres\s+bien\s+)?qui\s+vous\s+etes|on\s+connait\s+votre\s+dossier|est\s+conserve,?\s+"
    r"au\s+cas\s+ou|deinen\s+account\s+(?:aber\s+)?notiert|screenshots\s+von\s+deinem|wir\s+wissen\s+"
    r"(?:ubrigens\s+)?,?\s*fur\s+welche|wir\s+merken\s+uns|guardou\s+print|tem\s+registro\s+de\s+tudo|"
    r"identificacao\s+registad\w*|a\s+gente\s+guarda\s+tudo)\b|"
    r"\b(?:up\s+for\s+review|review\s+whether\s+we\s+want|can\s+be\s+(?:withdrawn|refused|"
    r"cancelled)\s+for)\b",
    # es, fr, de, pt
    r"\b(?:que\s+sepas\s+que|tenemos\s+guardad\w*|guardamos\s+(?:capturas|todo|registro)|"
    r"(?:hemos\s+)?tomado\s+nota\s+de\s+tu|podria\s+quedar\s+revisad\w*|si\s+sigues\s+asi|"
    r"gardons\s+une\s+trace|on\s+surveille|saura\s+vous\s+retrouver|bien\s+identifie|"
    r"faites\s+attention|ont\s+acces\s+aux\s+identites|deinen\s+account\s+(?:notiert|gemerkt)|"
    r"uns\s+deinen\s+\w+\s+gemerkt|screenshots\s+(?:\w+\s+){0,4}sichern|genau\s+verfolgen|"
    r"bem\s+anotad\w*|acompanha\s+de\s+perto|sabe\s+direitinho\s+quem|temos\s+todos\s+os\s+seus\s+"
    r"dados)\b",
)
ARGUING = _rx(
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
    r"\bactually,?\s+(?:you|that|this|our|we)\b|(?<!\boh\s)\bno,\s+(?:you|that|it|we|the|this|our|there)\b",
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
    # contradiction without "wrong": "that's not really accurate", "'never' isn't quite right"
    r"\b(?:that(?:'s|\s+is)|it(?:'s|\s+is)|this\s+is|'?\w+'?\s+(?:is|isn't))\s+(?:not|n't)?\s*"
    r"(?:really\s+|quite\s+|entirely\s+|strictly\s+)?(?:accurate|a\s+fair\s+picture|how\s+(?:it|"
    r"our\s+\w+|this)\s+works)\b|\b(?:isn't|is\s+not|that's\s+not|it's\s+not)\s+(?:really|"
    r"quite|strictly|entirely)\s+(?:accurate|fair|right|true|correct)\b|\b(?:isn't|not)\s+"
    r"accurate\b|\bso\s+that's\s+not\s+right\b",
    # "'unusable' is a stretch": the person's word, quoted and played down
    r"'\s+(?:is|isn't)\s+(?:a\s+bit\s+|a\s+little\s+|rather\s+|quite\s+)?(?:a\s+stretch|dramatic|"
    r"overstating\s+it|an\s+overstatement|an\s+exaggeration|fair|right)\b(?!\s+by\s+any)|\bis\s+(?:a\s+bit|"
    r"a\s+little)\s+(?:dramatic|much|of\s+a\s+stretch)\b|\bis\s+overstating\s+it\b|"
    r"\bis\s+an\s+exaggeration\b|\bgoes\s+too\s+far\b|"
    r"\b(?:i'd|we'd|i\s+would|we\s+would)\s+(?:\w+\s+)?push\s+back\b|\b(?:we'd|we\s+would|i'd|we'll\s+have\s+to|we\s+have\s+to)\s+"
    r"disagree\b|\bdisagree\s+with\s+that\b|\bwith\s+respect,|\b(?:i|we)\s+(?:really\s+)?doubt\s+"
    r"that\b|\bwe\s+(?:really\s+|strongly\s+)?doubt\s+(?:the|it|this|your|you)\b|\bfor\s+accuracy\b|\bisn't\s+borne\s+out\b|\bnot\s+borne\s+out\b|"
    r"\b(?:there's|there\s+is)\s+(?:really\s+)?nothing\s+more\s+to\s+say\b|\bwe\s+have\s+"
    r"(?:already\s+)?explained\b|\b(?:it's|that's|it\s+is)\s+not\s+(?:a\s+con|a\s+scam|a\s+joke|"
    r"ridiculous|absurd|true)\b|\byou're\s+not\s+(?:quite\s+|really\s+)?right\b|\bwhere\s+'\w+'"
    r"\s+comes\s+from\b|\btechnically\s+we're\b|\b(?:can't|cannot)\s+really\s+be\b"
    # "photos can't really be replaced": sympathy for a loss, not a contradiction
    r"(?!\s+(?:replaced|undone|repaired|recovered|made\s+up\s+for|put\s+(?:right|into\s+words)|"
    r"compensated|measured))|"
    r"\bso\s+(?:he|she|they|the\s+\w+)\s+definitely\b|\bliterally\s+nothing\?\s+come\s+on\b",
    r"\bto\s+be\s+fair\s+to\s+(?:them|\w+\s+though)\b|\bin\s+fairness\b|\bjust\s+to\s+correct\b|"
    r"\blet\s+me\s+correct\b|\bhave\s+to\s+push\s+back\b|\byou're\s+misreading\b|\bi'm\s+sure\s+it\s+was\s+a\s+"
    r"misunderstanding\b|\b(?:the\s+charge|the\s+fee|the\s+decision)\s+stands\b|\bthat's\s+just\s+how\s+it\s+"
    r"works\b|\bisn't\s+a\s+scam\b|\bnot\s+really\s+a\s+joke\b",
    r"\b(?:no,\s+no\s+es\s+asi|te\s+repetimos|no\s+tiene\s+sentido\s+insistir|con\s+todo\s+el\s+respeto|no\s+lo\s+"
    r"compartimos|je\s+me\s+permets\s+d'insister|vous\s+faites\s+erreur|on\s+ne\s+peut\s+pas\s+vous\s+laisser\s+"
    r"dire|c'est\s+exagere|nous\s+ne\s+mentons\s+pas|so\s+allerdings\s+nicht\s+stehen\s+lassen|wir\s+lugen\s+"
    r"nicht|wie\s+bereits\s+(?:mehrfach\s+)?erklart|sehen\s+\w+\s+\w*\s*aber\s+anders|discordamos|nao\s+condiz\s+"
    r"com\s+a\s+realidade|nao\s+mentimos|conforme\s+ja\s+explic\w+|nao\s+adianta\s+insistir)\b",
    r"\b(?:eso\s+no\s+es\s+asi|con\s+todo\s+respeto|ya\s+te\s+lo\s+hemos\s+explicado|no\s+vamos\s+a\s+"
    r"repetirlo|no\s+fue\s+mala\s+suerte|c'est\s+inexact|c'est\s+un\s+fait|rien\s+de\s+plus\s+a\s+"
    r"dire|ne\s+sont\s+pas\s+une\s+erreur|nous\s+ne\s+constatons\s+aucune?|so\s+nicht\s+"
    r"bestatigen|sieht\s+das\s+anders|damit\s+als\s+erledigt|esta\s+enganad[oa]|voce\s+e\s+que\s+"
    r"nao|nada\s+de\s+errado\s+do\s+nosso\s+lado|nao\s+e\s+(?:absurd[oa]|car[oa]))\b",
)
BLAMES = _rx(
    r"(?<!\b(?:isn't|not|wasn't|never|none\s+of\s+this\s+is)\s+)\b(?:your|ur)\s+(?:own\s+)?fault\b|\b(?:that's|that\s+is|it's|it\s+is|this\s+is)\s+on\s+"
    r"you\b|\buser\s+error\b|\boperator\s+error\b|\bpebkac\b|\brtfm\b",
    # "you should have" blames; "you shouldn't have to" is sympathy, so only the
    # positive form counts.
    r"\byou\s+(?:should|ought\s+to)\s+(?:have|'ve)\b(?!\s+(?:been\s+(?:told|given|informed|"
    r"offered|sent|refunded|contacted|warned|notified|called|asked|kept|updated|put|let|shown|"
    r"taken|paid|left|seen|\w+ed)\b|had|got|gotten|"
    r"received|heard|to))|\byou\s+should've\b",
    # "you never ..." blames at the start of a clause; after a noun ("a schedule you never
    # set") it describes what was done to the person.
    r"(?<!(?:something|anything|what|things)\s)\byou\s+(?:didn't|did\s+not|"
    r"(?<=(?:^|[.!?,;:]\s*|\b(?:and|but|so|because)\s+)you\s+)never|failed\s+to|forgot\s+to|"
    r"neglected\s+to|ignored)\s+"
    r"(?:read|follow|check|pay|update|restart|configure|set|tell|contact|register|renew|clear|"
    r"confirm|provide|give|activate|install|plug|keep|reply|respond|answer|book|select|choose|"
    r"enable|turn|our|the|to)\b",
    r"\b(?:read|check)\s+(?:the|our)\s+(?:terms|manual|fine\s+print|t&cs?|t&c's|faq|contract|"
    r"small\s+print|instructions)\b(?!\s+for\b)|\bit's\s+in\s+the\s+(?:faq|terms|contract|small\s+print)\b",
    r"\byou\s+(?:did\s+|have\s+)?(?:agreed|agree|accepted|consented)\s+to\b|"
    r"\byou\s+signed\s+(?:the|a|our)\s+contract\b|\byou\s+were\s+(?:warned|clearly\s+told)\b",
    r"\b(?:as|which\s+was)\s+(?:clearly\s+)?(?:stated|explained|mentioned|outlined)\s+in\b",
    r"\b(?:you\s+must\s+have|it's\s+because\s+you|that's\s+because\s+you|because\s+you\s+"
    r"(?:didn't|did\s+not|chose|picked|used))\b",
    r"\byou\s+(?:chose|picked|opted\s+for)\s+the\s+(?:cheap|basic|wrong)\b",
    r"\bif\s+you\s+had\s+(?:read|followed|paid|checked|called|updated)\b",
    r"\bwhen\s+(?:you|customers|people|users)\s+(?:don't|do\s+not|didn't|fail\s+to|forget\s+to|"
    r"ignore)\b(?!\s*(?:[.,;:!?)\u2014-]|$|(?:is|was|are|and|but|right)\b))",
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
    r"\b(?:that's|that\s+is|that\s+one's|it's)\s+(?:sort\s+of\s+|kind\s+of\s+|really\s+|a\s+bit\s+)?"
    r"on\s+you\b|\bone's\s+on\s+you\b|\b(?:is|really)\s+(?:really\s+)?on\s+the\s+(?:player|"
    r"customer|user|passenger|traveller|rider|driver|guest|member)\b|\bthe\s+(?:user|customer|"
    r"traveller|rider|passenger|player|guest)'s\s+(?:job|responsibility|setup|fault|side)\b|"
    r"\b(?:would've|would\s+have)\s+saved\s+you\b|\basking\s+for\s+it\b|\bcheck\s+your\s+own\b|"
    r"\bnext\s+time,?\s+(?:if\s+you|choosing|make\s+sure|remember\s+to|please\s+(?:read|check)|"
    r"read|check)\b|\bif\s+you'd\s+(?:submitted|read|checked|sent|followed|kept|measured|"
    r"booked|entered)\b|\bif\s+you\s+read\s+it\s+carefully\b|\b(?:you|it's\s+likely\s+you)\s+"
    r"added\s+it\s+by\s+accident\b|\bmaybe\s+you\s+(?:moved|forgot|didn't|pressed|clicked|"
    r"deleted)\b|\bso\s+you\s+did\s+choose\b|\bthat's\s+(?:usually|probably)\s+why\b",
    # the cause put on what the person did or skipped
    r"\b(?:manual|guide|instructions|notice)\s+(?:says|tells\s+you)\s+to\s+(?:avoid|do)\b|\bas\s+(?:the\s+)?"
    r"(?:manual|guide|instructions)\s+(?:says|explains)\b|\bcomo\s+indica\s+o\s+manual\b|\bcomme\s+"
    r"indique\s+dans\s+la\s+notice\b|\bsteht\s+auch\s+in\s+der\s+anleitung\b|\bthe\s+\w+\s+you\s+(?:entered|"
    r"typed|gave|provided|selected)\s+(?:was|had|is)\b|\byou\s+(?:added|pressed|clicked|deleted|moved|"
    r"selected|ordered|booked|cancelled)\s+(?:\w+\s+){0,2}by\s+(?:accident|mistake)\b|\b(?:problem|issue|"
    r"one)\s+on\s+your\s+(?:side|end)\b|\bbecause\s+no\s+(?:readings?|one|meter\s+readings?)\s+(?:were|was)\s+"
    r"(?:sent|submitted|given)\b|\bbecause\s+no\s+one\s+answered\b|\b(?:usually|often|mostly|almost\s+"
    r"always)\s+(?:happens?|doubles?|comes?|occurs?)\s+when\s+(?:\w+\s+){0,3}(?:aren't|isn't|wasn't|weren't|"
    r"is\s+not|are\s+not|don't|didn't)\b",
    r"\b(?:always\s+)?worth\s+(?:double|triple)[\s-]?checking\b|\bplease\s+always\s+double[\s-]?check\b|"
    r"\bworth\s+keeping\s+(?:your|codes)\b|\bsince\s+you\s+(?:approved|agreed|selected|chose|entered)\b|"
    r"\b(?:the\s+ones?|what)\s+you\s+(?:selected|entered|chose|picked|typed)\b|\b(?:que|die|that)\s+"
    r"(?:firmaste|aceptaste|voce\s+(?:aceitou|assinou)|vous\s+avez\s+(?:signe|accepte)\w*|du\s+"
    r"(?:akzeptiert|unterschrieben)\s+hast|you\s+(?:signed|accepted))\b|\bque\s+tu\s+pusiste\b|"
    r"\bhay\s+que\s+leerselo\b|\blire\s+la\s+documentation\b|\brevisala\s+bien\b|\bquiza\s+no\s+oiste\b|"
    r"\b(?:dein|ihr)\s+fehler\b|\bbitte\s+lies\s+dir\b|\bpensez\s+a\s+bien\s+verifier\b|"
    r"\ba\s+faire\s+de\s+votre\s+cote\b|\bera\s+so\s+ter\s+lido\b|\bcabe\s+ao\s+(?:passageiro|"
    r"cliente|usuario)\b|\bhay\s+que\s+fijarse\b|\bsi\s+la\s+hubieras\b|\bsin\s+regarder\s+la\s+"
    r"notice\b",
)
# What somebody else told the person, repeated in sympathy ("being told it's on you").
REPORTED = _rx(
    r"\b(?:being|been|was|were|get|gets|got|getting)\s+told\b|\btold\s+(?:you|me|them)\b|"
    r"\b(?:they|he|she|support|the\s+agent|the\s+rep|the\s+driver)\s+(?:said|says|claimed|claims|"
    r"insisted|insists)\b|\bblam(?:e|es|ed|ing)\s+you\b",
)
POST_NOUN = (
    r"(?:post|tweet|toot|comment|thread|review|skeet|message|complaint|status|screenshot|photo|"
    r"picture|pic|video|clip|story|stories)s?"
)
_THE = r"(?:this|that|the|your|these|those|original|first|old|whole)"
DELETE = _rx(
    r"\b(?:delet|remov|pull|retract|hid|withdraw|scrub|unpost|nuk|eras|archiv)(?:e|es|ed|ing)?\s+"
    r"(?:down\s+)?" + _THE + r"?\s*(?:[\w']+\s+){0,3}?" + POST_NOUN + r"\b",
    r"\b(?:get|getting|got)\s+rid\s+of\s+" + _THE + r"?\s*(?:[\w']+\s+){0,2}?" + POST_NOUN + r"\b",
    r"\b(?:tak(?:e|es|ing)|took)\s+(?:down|offline)\s+"
    + _THE
    + r"?\s*(?:[\w']+\s+){0,2}?"
    + POST_NOUN
    + r"\b",
    r"\b(?:tak(?:e|es|ing)|took)\s+"
    + _THE
    + r"\s+(?:[\w']+\s+){0,3}?"
    + POST_NOUN
    + r"\s+(?:down|offline|off)\b",
    r"\b(?:delete|remove|take\s+down|retract|unpost|scrub|nuke)\s+(?:it|this|that)\b",
    r"\b(?:tak(?:e|es|ing)|took)\s+(?:it|this|that)\s+(?:down|offline)\b",
)
# Our own doing ("we'll remove it"), not a request to the person.
OUR_DOING = regex.compile(
    r"\b(?:we|i)(?:'ll|'ve|'d|\s+will|\s+can|\s+could|\s+have|\s+would|\s+are\s+going\s+to)?"
    r"\s+(?:\w+\s+)?$",
    FLAGS,
)
AMEND = _rx(
    r"\b(?:amend|edit|updat|chang|correct)\w*\s+(?:your|the|this|that)\s+(?:post|tweet|toot|"
    r"comment|review|skeet)\b",
)
CONTACT_ROUTE = _rx(
    r"\bd\s?ms?\b|\bdirect\s+message|\bprivate\s+message|\bpm\b|\binbox\b|\bmessage\s+us\b",
    r"\be-?mail\b|\b[\w.+-]+@[\w-]+\.[\w.]+",
    r"\b(?:call|ring|phone|text)\s+(?:us|our|the)\b|\bphone\b|\bhelpline\b|\bhotline\b|"
    r"\b0800\b|\+?\d[\d\s-]{7,}\d",
    r"\b(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|io|co|uk|help)\b",
    r"\b(?:reach|contact|find)\s+(?:us|our|me)\b|\bget\s+in\s+touch\b|\breach\s+out\b|"
    r"\blive\s+chat\b|\bsupport\s+(?:team|line|page|site|portal|chat)\b|\bfollow\s+us\s+back\b",
    r"\bsend\s+(?:us|me)\b|\bdrop\s+(?:us|me)\b|\bshoot\s+(?:us|me)\b",
    r"\b(?:open|raise|log|submit)\s+a\s+(?:ticket|case|support\s+request)\b",
    r"\b(?:support|help|helpdesk|soporte|suporte|ayuda|ajuda|aide|hilfe|service|kundenservice)\."
    r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b|\b(?:abr\w+|abre|abra|open)\s+(?:un\s+|um\s+|a\s+)?"
    r"(?:ticket|chamado)\b",
)
PLACEHOLDER = regex.compile(
    r"\{\{?\s*(?!dot\s*\})[\w .-]{1,40}\}\}?|"
    r"\[\s*(?:(?-i:[A-Z][A-Z _-]{1,30})|first\s*name|name|handle|"
    r"username|brand|problem|issue|competitor|product)\s*\]|<\s*(?:name|first\s*name|handle|"
    r"username|insert[^>]{0,30})\s*>|\bINSERT\s+[A-Z]+\b|%\(\w+\)s|\$\{\w+\}|"
    # any <word> or [word] a template left behind ("<agent_signature>", "[Vorname]",
    # "[insert date]"), %NAME%, and XXX standing for a value
    r"<\s*(?!(?:script|style|b|i|u|a|p|s|br|hr|em|strong|img|div|span|code|pre|li|ul|ol|"
    r"h[1-6]|sup|sub|small|mark|q|blockquote|table|tr|td|th)\s*>)\p{L}[\p{L}\d_ .-]{1,30}\s*>|"
    r"\[\s*(?!(?:sic|edit|update|deleted|removed|link|photo|image|video|gif|sic!)\s*\])"
    r"\p{L}[\p{L}\d_ .-]{1,30}\s*\](?!\()|%[A-Za-z_]{2,30}%|(?-i:\bX{3,}\b|\bx{3,}@)",
    regex.IGNORECASE,
)

# Disparaging the competitor: insults that need no subject, and judgements that
# need the competitor (or "they") as the subject.
INSULTS = _rx(
    r"\bscam(?:s|mers?|my)?\b(?!\s+(?:refunds?|victims?|calls?|texts?|emails?|alerts?|warnings?|"
    r"protection|cases?|claims?|reimbursement))|\bcrooks?\b|\bclowns?\b|\bthie(?:f|ves)\b|\bliars\b|"
    r"\bcon\s*(?:artists?|men)\b|\brip\s*-?\s*offs?\b|\bcowboys\b|\bmorons?\b|\bidiots?\b|"
    r"\bincompetent\b|\bamateur\s*(?:hour|s)\b|\bdinosaurs?\b|\bcircus\b|\bshitshow\b|"
    r"\bclown\s*show\b|\bdumpster\s+fire\b|\btrash\s+(?:company|provider|network|service)\b",
    r"\bworst\s+(?:company|provider|isp|carrier|network|telco|operator|business|brand)\b",
    r"\b(?:strikes|strike|fails|screws?\s+up|did\s+it|messed\s+up)\s+again\b",
    r"\bas\s+usual\b|\bsurprise,?\s+surprise\b|\bwhat\s+(?:did|do|else\s+(?:did|do|would|"
    r"could))\s+you\s+expect\b|\b(?:not|never)\s+(?:surprised|surprising)\b|(?<!there's\s|there\s+is\s|be\s)\bno\s+"
    r"surprise\b",
    r"\b(?:avoid|stay\s+away\s+from|run\s+from|never\s+trust|don't\s+trust|can't\s+trust)\s+"
    r"(?:them|those\s+(?:guys|people|clowns|crooks)|that\s+company|that\s+lot)\b",
    r"\blol\b|\blmao\b|\brofl\b|(?<!^\W*)\bhaha\w*\b|\U0001f921|\U0001f4a9|\U0001f5d1",
    r"\btypical\s+(?:them|of\s+them|corporate|telco|isp)\b|\bclassic\s+(?:them|move)\b",
    r"\b(?:gone|went|going)\s+(?:seriously\s+)?downhill\b|\bwent\s+off\s+a\s+cliff\b|\bheld\s+"
    r"together\s+with\s+(?:\w+\s+)?(?:tape|sticky\s+tape|duct\s+tape|cable\s+ties|string|glue)\b|"
    r"\brunning\s+joke\b|\b(?:have|had)\s+never\s+met\b|\bnever\s+(?:really\s+)?on\s+speaking\s+"
    r"terms\b|\bcouldn't\s+run\s+a\s+bath\b|\bget\s+lost\s+in\s+a\s+car\s+park\b|\bbelongs?\s+in\s+a\s+"
    r"museum\b|\bnot\s+in\s+a\s+good\s+way\b|\bwho'd\s+have\s+guessed\b|\bcutting\s+corners\b|"
    r"\bhalf-finished\b|\byou\s+get\s+what\s+you\s+pay\s+for\b|\bgood\s+luck\s+getting\s+a\b|"
    r"\b(?:by\s+name,|,\s+more\s+like|\?\s+more\s+like|\?\s+eher|,\s+ou\s+(?:melhor|l'art\s+de)|"
    r"you\s+mean\?)|\bfamously\s+(?:thin|past|bad|slow|late|"
    r"unreliable)\b|\bfamous\s+for\b|\b(?:\w+'s|their)\s+idea\s+of\b|\bbasically\s+(?:buses|a\s+vending)\b|"
    r"\bspare\s+a\s+thought\s+for\b|\bstill\s+better\s+than\b|\bhas\s+always\s+treated\b|"
    r"\bwouldn't\s+trust\b|\blo\s+de\s+siempre\b|"
    r"\bya\s+se\s+sabe\b|\bbergab\b|\bwundert'?s?\s+einen\b|\bmarque\s+de\s+fabrique\b|"
    r"\bn'a\s+jamais\s+ete\s+le\s+point\s+fort\b|\bcada\s+vez\s+mais\s+fraquinho\b|"
    r"\bcon\s+alguien\s+mas\s+serio\b|\bno\s+sabe\s+ni\s+lo\s+que\s+es\b|\bat\s+its\s+finest\b|"
    r"\bwhat\s+could\s+possibly\s+go\s+wrong\b|\ba\s+certain\s+other\b|\bliving\s+up\s+to\s+(?:half\s+)?"
    r"its\s+name\b|\beveryone\s+knows\b|\bde\s+mal\s+en\s+peor\b|\btampoco\s+sorprende\b|\bcon\s+esa\s+"
    r"gente\b|\blo\s+sabe\s+todo\s+el\s+mundo\b|\bla\s+barre\s+tres\s+bas\b|\bvu\s+leur\s+historique\b|"
    r"\btout\s+le\s+monde\s+le\s+sait\b|\bo\s+que\s+se\s+espera\s+de\b|\bnunca\s+foi\s+(?:la\s+)?grande\s+"
    r"coisa\b|\btodo\s+mundo\s+sabe\b",
    r"\b(?:they're|they\s+are)\s+all\s+(?:like\s+that|the\s+same)\b|\bbunch\s+of\s+\w+|"
    r"\bclueless\b|\bshambolic\b|\bstunts?\b|\blying\b|\bliars?\b|\bnotoriously\b|\bnotorious\b|\bgreedy\b|\bshady\b|\bdodgy\b|\bsucks?\b(?<!that\s+sucks)(?<!it\s+sucks)"
    r"(?<!which\s+sucks)(?<!this\s+sucks)(?<!really\s+sucks)(?<!totally\s+sucks)",
)
JUDGEMENT = (
    r"(?:is|are|was|were|has\s+(?:always\s+)?been|have\s+(?:always\s+)?been|seems?|'s|'re)\s+"
    r"(?:(?:so|such|really|just|always|truly|totally|completely|absolutely|the|\w+ly|a|an|"
    r"total|complete|utter|absolute|real|proper|bit\s+of\s+a)\s+)*"
    r"(?:bad|terrible|awful|useless|worst|garbage|trash|rubbish|a\s+joke|joke|hopeless|"
    r"unreliable|crap|horrible|clueless|incompetent|dreadful|lazy|a\s+mess|pathetic|"
    r"a\s+disaster|disaster|mess|ridiculous|embarrassing|the\s+worst|a\s+shambles|shambles|liars|cowboys|"
    r"amateurs|idiots|greedy|shady|dodgy|crooks|thieves|a\s+nightmare\s+company)\b"
)
SUBJECT_JUDGEMENT = regex.compile(r"\b(?:they|them|their\s+\w+)\s+" + JUDGEMENT, FLAGS)

# "Refers to the person's problem": acknowledgement phrasing...
EMPATHY = _rx(
    r"\bsorry\b|\bapolog\w*|\bso\s+frustrating\b|\bfrustrat\w*|\bannoying\b|\binfuriating\b|"
    r"\bmaddening\b|\bexhausting\b|\bstressful\b|\bnightmare\b|\bheadache\b|\bugh\b|\boof\b|"
    r"\byikes\b|\bargh\b|\bunsettling\b|\bworrying\b|\balarming\b|\bunnerving\b|"
    r"\bdisturbing\b|\bupsetting\b|\blet-?down\b|\bnerve-?wracking\b|\bheartbreaking\b|"
    r"\bdevastating\b|\bgutting\b",
    r"\b(?:is|are|was|sounds|feels)\s+(?:so\s+|really\s+|genuinely\s+|just\s+|pretty\s+|truly\s+)?"
    r"(?:miserable|awful|horrible|rough|brutal|grim|frustrating|stressful|exhausting|"
    r"infuriating|unacceptable|a\s+nightmare|not\s+okay|not\s+ok|unfair)\b",
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
    r"\b(?:hope|hoping|hopefully)\b.{0,50}?\b(?:sort\w*|fix\w*|resolv\w*|back|"
    r"improv\w*|restor\w*|work\w*|running|refund\w*|answer\w*|normal|settle\w*|"
    r"clear\w*|through|calls?|help\w*|respond\w*|reply|replies)\b",
    r"\b(?:fingers\s+crossed|good\s+luck|best\s+of\s+luck)\b",
    r"\b(?:hope|hoping|hopefully)\s+(?:someone|somebody|they|"
    r"service|support|the\s+(?:fix|line|network|signal|connection|refund|engineer))\b",
    r"\bnothing\s+worse\b|\bworst\s+(?:feeling|thing|part)\b",
    r"\b(?:can't|cannot|can\s+not)\s+imagine\b|\bfeel\s+(?:for\s+you|your\s+pain)\b|"
    r"\bsympath\w*|\bthat\s+stinks\b|\bthat\s+sucks\b|\bit\s+sucks\b|\bthis\s+sucks\b|"
    r"\bno\s+one\s+(?:should|deserves|wants)\b|\bnobody\s+(?:should|deserves|wants)\b|"
    r"\bshouldn't\s+have\s+to\b|\bdeserve\s+(?:better|answers|a\s+proper)\b",
    r"\b(?:thanks|thank\s+you)\s+for\s+(?:flagging|raising|letting|telling|reporting|"
    r"your\s+patience|bearing)\b|\bwe\s+hear\s+you\b|\bi\s+hear\s+you\b",
    r"\bbeen\s+there\b|\bhappened\s+to\s+me\b|\bsame\s+(?:here|thing\s+happened)\b|"
    r"\bthat's\s+(?:a\s+)?(?:lot|long)\b|\bmust\s+be\s+\w+ing\b|\bmust\s+have\s+been\b",
)
# ...or naming the kind of problem people complain about.
PROBLEM_WORDS = _rx(
    r"\b(?:outages?|down|downtime|offline|disconnect\w*|dropp\w+|drops|slow\w*|lag\w*|bill\w*|"
    r"charg\w+|overcharg\w+|fees?|refund\w*|cancel\w*|contract|hold|queue|wait\w*|signal|"
    r"coverage|connection|wifi|wi-fi|internet|broadband|router|modem|engineer|technician|"
    r"install\w*|appointment|support|helpline|chatbot|agent|ticket|complaint|broken|"
    r"not\s+working|stopped\s+working|no\s+service|no\s+signal|no\s+internet|speeds?|"
    r"buffering|data|roaming|sim|porting|port|number|line|fault|error|crash\w*|update|"
    r"price\s+(?:rise|hike|increase)|hike|increase|delay\w*|late|missed|no-show|hours|days|"
    r"weeks|calls?|emails?)\b",
)
STOPWORDS = frozenset(
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


# --------------------------------------------------------------------------- other languages
# Spanish, French, German and Portuguese, on the same normalised view: lower case,
# accents stripped ("escríbenos" is matched as "escribenos", "löschen" as "loschen").
# Every language's patterns run on every reply: their words barely overlap, and a
# reply that mixes languages is still read whole.


def _also(pattern: regex.Pattern[str], *alternatives: str) -> regex.Pattern[str]:
    """``pattern`` with ``alternatives`` added."""
    return _rx(pattern.pattern, *alternatives)


_DM = (
    r"(?:d\s?m|md|mp|pn|privado|inbox|mensaje\s+privado|message\s+prive|privatnachricht|"
    r"private\s+nachricht|mensagem\s+privada)"
)

CTA = _also(
    CTA,
    # es
    r"\b(?:cambiate|pasate|vente|unete|apuntate|date\s+de\s+alta|hazte\s+cliente|contrata(?:nos)?|"
    r"pruebanos|prueba\s+(?:nuestr|con\s+nosotros|otra|otro)|escribenos|llamanos|contactanos|"
    r"mandanos|envianos|visitanos|echa\s+un\s+vistazo|descubre|no\s+te\s+lo\s+pierdas)\b",
    r"\b(?:cambiarte|pasarte|cambiar|pasar)\s+(?:a|de)\s+(?:nosotros|otra\s+compania|otro\s+"
    r"(?:operador|proveedor))\b|\b(?:ya\s+)?es\s+hora\s+de\s+cambiar\b|\bcon\s+nosotros\s+"
    r"(?:no|nunca|tendrias|tendras)\b",
    # fr
    r"\b(?:passez|venez|rejoignez|contactez|ecrivez|envoyez|appelez|essayez|testez|decouvrez|"
    r"abonnez|inscrivez)(?:-|\s)?(?:nous|vous|chez)\b|\b(?:passe|viens|rejoins|contacte|ecris|"
    r"envoie|appelle|essaie|essaye|decouvre)(?:-|\s)?(?:nous|chez\s+nous)\b",
    r"\bchangez\s+(?:d'|de\s+)(?:operateur|fournisseur|banque|crem|assureur)\b|\bil\s+est\s+temps\s+"
    r"de\s+changer\b|\bchez\s+nous,?\s+(?:pas|jamais|vous|c'est)\b",
    # de
    r"\b(?:wechsle|wechselt|wechseln\s+sie|komm|kommt|kommen\s+sie|probier|probiert|probieren\s+"
    r"sie|schreib|schreibt|schreiben\s+sie|ruf|ruft|rufen\s+sie|kontaktiere|kontaktieren\s+sie|"
    r"melde\s+dich|meldet\s+euch|melden\s+sie\s+sich)\s+(?:doch\s+|gern\w*\s+|einfach\s+|mal\s+)*"
    r"(?:zu\s+uns|bei\s+uns|uns|zu|an)\b",
    r"\bjetzt\s+(?:wechseln|bestellen|buchen|abonnieren|testen)\b|\bschau\w*\s+(?:dir|euch|sie\s+"
    r"sich)\s+(?:mal\s+)?(?:unser|uns)\w*|\bzeit\s+(?:fur|zu)\s+(?:einen\s+)?wechsel\w*\b|"
    r"\bbei\s+uns\s+(?:gibt|hast|haben|wurde|ware|passiert)\b",
    # pt
    r"\b(?:mude|muda|venha|vem|experimente|experimenta|assine|confira|conheca|escreva|chama|"
    r"chame|manda|mande|fale|liga|ligue|contrate)(?:-nos|\s+(?:pra|para)\s+(?:a\s+gente|nos|o\s+"
    r"nosso|a\s+nossa)|\s+(?:com\s+a\s+gente|conosco)|\s+(?:a\s+gente|uma\s+(?:dm|mensagem)|na\s+"
    r"(?:dm|inbox)|no\s+(?:privado|inbox)))\b",
    r"\bta\s+na\s+hora\s+de\s+mudar\b|\bhora\s+de\s+trocar\b|\bcom\s+a\s+gente\s+(?:nao|isso|voce)\b",
)
SELF_PROMOTION = _also(
    SELF_PROMOTION,
    r"\b(?:nosotros|nuestr[oa]s?)\b(?!\s+(?:condolencias|disculpas|mas\s+sinceras))",
    r"\b(?:notre|nos)\s+(?!(?:condoleances|excuses|pensees)\b)\w+|\bchez\s+nous\b|"
    r"\bnous\b(?!\s+(?:sommes|somme)\s+(?:vraiment\s+|tellement\s+|tres\s+)?(?:desoles|navres))",
    r"\b(?:unser\w*|bei\s+uns|zu\s+uns)\b(?!\s+(?:beileid|mitgefuhl))|\bwir\b(?!\s+(?:hoffen|"
    r"drucken|wunschen|bedauern|verstehen|fuhlen|sind\s+(?:sehr\s+|wirklich\s+)?traurig))",
    r"\b(?:nosso|nossa|nossos|nossas|conosco|a\s+gente\s+(?:tem|oferece|nunca|faz|entrega|rastreia|"
    r"mantem|garante|cobra))\b|\b(?:por\s+aqui|aqui\s+(?:a\s+gente|nosotros)|ca\s+na\s+casa)\b",
)
FOLLOW = _also(
    FOLLOW,
    r"\b(?:siguenos|siganos|seguinos|sigue(?:nos)?\s+(?:en|a\s+@|nuestr)|suivez(?:-|\s)nous|"
    r"abonnez(?:-|\s)vous\s+a\s+(?:notre|nos)|folg(?:e|t|en\s+sie)\s+uns|folg\s+uns|"
    r"siga(?:-nos|\s+a\s+gente|\s+(?:o|a)\s+@)|segue\s+a\s+gente|nos\s+siga)\b",
)
INSULTS = _also(
    INSULTS,
    r"\b(?:estafa(?:dores)?|ladrones|payasos|chapuza|chapuceros|sinverguenzas|incompetentes|"
    r"una\s+verguenza|un\s+desastre|de\s+pena|arnaque(?:urs)?|escrocs?|voleurs|guignols|"
    r"bras\s+casses|minables|une\s+honte|une\s+blague|abzock\w*|betruger\w*|saftladen|"
    r"versager|inkompetent\w*|unfahig\w*|eine\s+frechheit|ein\s+witz|golpistas?|ladroes|"
    r"palhacos|picaretas?|uma\s+piada|uma\s+vergonha|um\s+lixo|incompetentes)\b",
    r"\b(?:como\s+siempre|tipico\s+de|comme\s+d'habitude|typique\s+de|wie\s+immer|typisch\s+"
    r"fur|como\s+sempre|tipico\s+da|tipico\s+do)\b",
)
LEGAL = _also(
    LEGAL,
    r"\b(?:abogad[oa]s?|demanda(?:r|remos|ra|mos)?|acciones\s+legales|medidas\s+legales|"
    r"difamacion|difamatori\w*|tribunal(?:es)?|juzgado|denuncia(?:r|remos)?)\b",
    r"\b(?:avocats?|poursuites?|action\s+en\s+justice|tribunal|diffam\w*|nous\s+reservons\s+le\s+"
    r"droit|suites\s+qui\s+s'imposent|mise\s+en\s+demeure|"
    r"porter\s+plainte|plainte|juridique)\b",
    r"\b(?:anwalt|anwalte|anwaltin|rechtsanwalt\w*|verklagen|klage|rechtliche\s+schritte|"
    r"rechtsabteilung|rechtlich\w*\s+(?:folgen|konsequenzen|relevant)|schritte\s+vor|"
    r"engager\s+votre\s+responsabilite|consecuencias\s+legales|consequencias\s+legais|"
    r"gericht\w*|verleumdung|abmahnung|unterlassungs\w*|strafanzeige)\b",
    r"\b(?:advogad[oa]s?|processar(?:emos)?|processo\s+(?:judicial|contra)|medidas\s+(?:legais|judiciais)|"
    r"acao\s+judicial|difamacao|justica|juridic[oa])\b",
)
THREAT = _also(
    THREAT,
    r"\b(?:te\s+vas\s+a\s+arrepentir|se\s+va\s+a\s+arrepentir|ultima\s+advertencia|atente\s+a|"
    r"consecuencias|cuidado\s+con\s+lo\s+que\s+(?:dices|publicas|escribes)|(?:vamos\s+a|"
    r"podemos)\s+(?:bloquear|suspender|denunciar|reportar|cortar)(?:te|le)?\b)",
    r"\b(?:vous\s+allez\s+le\s+regretter|tu\s+vas\s+le\s+regretter|dernier\s+avertissement|"
    r"attention\s+a\s+ce\s+que\s+(?:vous|tu)|(?:nous\s+allons|on\s+va)\s+(?:signaler|"
    r"bloquer|suspendre|couper|resilier)\s+(?:votre|ton|vous|te))\b",
    r"\b(?:bereuen|letzte\s+warnung|konsequenzen|pass\s+auf,?\s+was\s+du|passen\s+sie\s+auf,?\s+"
    r"was|wir\s+werden\s+(?:ihr|dein|sie|dich)\s+(?:\w+\s+)?(?:sperren|melden|kundigen))\b",
    r"\b(?:vai\s+se\s+arrepender|ultim[oa]\s+(?:aviso|advertencia)|consequencias|cuidado\s+com\s+"
    r"o\s+que\s+(?:voce\s+)?(?:diz|posta|escreve|fala)|vamos\s+(?:denunciar|bloquear|suspender|"
    r"cortar)\s+(?:sua|seu|voce|a\s+sua))\b",
)
ARGUING = _also(
    ARGUING,
    r"\b(?:eso\s+no\s+es\s+(?:verdad|cierto)|es\s+(?:mentira|falso)|(?:estas|esta)\s+"
    r"(?:equivocad[oa]|mintiendo|exagerando)|te\s+equivocas|se\s+equivoca|exageras|calmate|"
    r"no\s+hubo\s+(?:ninguna\s+)?(?:caida|averia|incidencia|corte)|no\s+es\s+(?:nuestra|mi)\s+"
    r"culpa|funciona\s+(?:bien\s+)?para\s+todos)\b",
    r"(?:\bc'est\s+faux\b|\bce\s+n'est\s+pas\s+vrai\b|\bvous\s+(?:vous\s+trompez|mentez|"
    r"exagerez)\b|\btu\s+(?:te\s+trompes|mens|exageres)\b|\bcalmez(?:-|\s)vous\b|\bil\s+n'y\s+a\s+"
    r"(?:eu\s+)?aucune\s+(?:panne|coupure)\b|\bce\s+n'est\s+pas\s+(?:notre|ma)\s+faute\b)",
    r"\b(?:das\s+stimmt\s+(?:so\s+)?nicht|das\s+ist\s+(?:falsch|gelogen|unsinn|quatsch)|"
    r"sie\s+irren\s+sich|du\s+irrst\s+dich|sie\s+lugen|du\s+lugst|ubertreib\w*|"
    r"beruhigen\s+sie\s+sich|beruhig\s+dich|es\s+gab\s+keine\s+(?:storung|ausfall)|nicht\s+"
    r"unsere\s+schuld)\b",
    r"\b(?:isso\s+nao\s+e\s+verdade|e\s+mentira|voce\s+esta\s+(?:errad[oa]|exagerando|mentindo)|"
    r"se\s+acalme|calma\s+ai|nao\s+houve\s+(?:nenhuma\s+)?(?:falha|queda)|nao\s+e\s+(?:nossa|"
    r"minha)\s+culpa)\b",
)
BLAMES = _also(
    BLAMES,
    r"\b(?:(?<!\bno\s)es\s+(?:tu|su)\s+culpa|(?<!\bno\s+es\s)culpa\s+(?:tuya|suya)|deberias\s+haber|"
    r"debiste|no\s+leiste|"
    r"error\s+del\s+usuario|(?:es|sera)\s+(?:tu|su)\s+(?:router|configuracion|equipo|movil))\b",
    r"\b(?:c'est\s+(?:de\s+)?(?:votre|ta)\s+faute|vous\s+auriez\s+du|tu\s+aurais\s+du|vous\s+"
    r"n'avez\s+pas\s+(?:lu|suivi|paye|verifie)|erreur\s+de\s+l'utilisateur)\b",
    r"\b(?:(?<!\b(?:nicht|keine)\s)(?:ihre|deine)\s+schuld|selbst\s+schuld|hatten\s+sie|hattest\s+du|bedienfehler|"
    r"liegt\s+an\s+(?:ihrem|deinem|ihrer|deiner)\s+\w+|sie\s+haben\s+(?:die|das|den)\s+\w+\s+"
    r"nicht\s+gelesen)\b",
    # "devia ter acontecido": it should have (happened), not "you should have"
    r"\b(?:a\s+culpa\s+e\s+(?:sua|tua)|(?<!\bnao\s+e\s)culpa\s+(?:sua|tua)|(?<!nao\s)voce\s+"
    r"(?:deveria|devia)\s+ter|(?<!nao\s)devias\s+ter|"
    r"voce\s+nao\s+leu|erro\s+do\s+usuario)\b",
)
_POSTS_OTHER = (
    r"(?:tuit|post|publicacion|comentario|mensaje|resena|hilo|message|publication|commentaire|"
    r"avis|tweet|beitrag|kommentar|bewertung|tweet|publicacao|comentario|mensagem|avaliacao)s?"
)
DELETE = _also(
    DELETE,
    r"\b(?:borr(?:a|ar|e|es|en|aras|ases)|elimin(?:a|ar|e|es|en|aras|ases)|quit(?:a|ar|e|es|aras|"
    r"ases)|retir(?:a|ar|ez|er|en|es|aras|ases)|supprim(?:e|er|ez|iez)|"
    r"effac(?:e|er|ez)|losch(?:e|en|t|st)?|entfern(?:e|en|t|st)?|apag(?:a|ar|ue|uem)|"
    r"exclu(?:a|ir|am)|remov(?:a|er|am)|tir(?:a|ar|em))\s+"
    r"(?:(?:el|la|tu|su|este|esta|ese|esa|ce|cet|cette|le|la|votre|ton|ta|den|die|das|deinen|"
    r"ihren|deine|ihre|diesen|diese|o|a|seu|sua|esse|essa|este|esta|teu|tua)\s+)?(?:\w+\s+)?"
    + _POSTS_OTHER
    + r"\b",
    r"\b(?:borralo|eliminalo|quitalo|supprimez-le|supprime-le|retirez-le|losch\s+(?:das|ihn|es)|"
    r"nimm\s+(?:das|ihn|es)\s+(?:runter|raus)|apaga\s+isso|apague\s+(?:isso|o\s+post))\b",
)
# "Delete it" after "no need to" or "you don't have to" is the opposite of a request.
NOT_ASKING = regex.compile(
    r"(?:no\s+need\s+to|don't\s+(?:need|have)\s+to|do\s+not\s+(?:need|have)\s+to|not\s+asking\s+"
    r"(?:you\s+)?to|never\s+ask\s+(?:you\s+)?to|won't\s+ask\s+(?:you\s+)?to|no\s+hace\s+falta|"
    r"pas\s+besoin\s+de|sans\s+(?:le\s+)?|nicht\s+(?:notig|nötig)|nao\s+precisa)\s+(?:\w+\s+){0,2}$",
    FLAGS,
)
# The post going away as a condition or a wish: "once the thread is gone".
GONE = _rx(
    r"\b(?:once|when|after|if|until)\s+(?:the|your|this|that)\s+(?:\w+\s+)?"
    + POST_NOUN
    + r"\s+(?:is|has|was|goes|gets)\s+(?:been\s+)?(?:gone|down|removed|deleted|taken\s+down)\b",
    r"\b" + POST_NOUN + r"\s+(?:quietly\s+|just\s+|simply\s+)?(?:disappear\w*|vanish\w*|went\s+"
    r"away|go\s+away)\b",
    # the post going down, as a wish or a condition ("if the video came down", "the tweet's gone")
    r"\b" + POST_NOUN + r"'s\s+(?:gone|down|deleted|removed)\b",
    r"\b" + POST_NOUN + r"\s+(?:about|on|of)\s+(?:\w+\s+){1,3}?(?:quietly\s+|just\s+)?"
    r"(?:disappear\w*|vanish\w*|went\s+away|go\s+away)\b",
    r"\bverschwind\w*\s+(?:der|die|das|dein|deine|ihr|ihre)\s+(?:\w+\s+)?(?:post|tweet|beitrag|"
    r"kommentar|bewertung)\b",
    r"\b" + POST_NOUN + r"(?:'s)?\s+(?:(?:could|can|would|might|to|be|is|was|were|has|had|been|"
    r"got|get|gets|getting|now|then|just|quietly|simply|sort\s+of|finally|also|please|soon|"
    r"afterwards|came|come|comes|coming|went|go|goes|going)\s+){1,4}(?:down|gone|away|offline|"
    r"archived|removed|deleted|taken\s+down|hidden|disappear\w*|vanish\w*|no\s+longer\s+"
    r"(?:public|up|visible|online|there|on))\b",
    r"\b(?:need|want|get|have|see)\s+(?:the|this|that|your)\s+(?:[\w']+\s+)?"
    + POST_NOUN
    + r"\s+(?:down|gone|removed|deleted)\b",
    r"\b(?:this|it|that|the\s+post|the\s+tweet)\s+(?:didn't|did\s+not|doesn't|wouldn't|"
    r"won't)\s+stay\s+(?:up|online|public)\b|\bonce\s+this\s+stays\s+up\b",
    r"\b(?:off|from)\s+your\s+(?:public\s+)?(?:timeline|profile|feed|wall)\b|"
    r"\b(?:sitting|no\s+longer)\s+on\s+your\s+(?:public\s+)?(?:timeline|profile|feed|wall)\b",
    # es, fr, de, pt
    r"\b(?:tuit|post|publicacion|comentario|resena|hilo|message|publication|commentaire|avis|"
    r"tweet|beitrag|kommentar|bewertung|publicacao|mensagem|avaliacao)s?\s+(?:[\w']+\s+){0,3}?"
    r"(?:desaparezca\w*|desaparec\w*|borrad[oa]|eliminad[oa]|retirad[oa]|soit\s+(?:retire|supprime|"
    r"efface)e?|disparai\w*|disparu\w*|verschwind\w*|verschwunden|geloscht|entfernt|"
    r"rausnimm\w*|rausnehm\w*|loschen|loschst|loscht|sumi\w*|apagad[oa]|removid[oa]|"
    r"excluid[oa])\b",
    r"\b(?:tirar|tire|tira|tirem)\s+(?:\w+\s+){0,2}?do\s+ar\b|\bdeix\w+\s+de\s+estar\s+(?:visivel|"
    r"no\s+ar|online|publica)\b|\bapag\w*\s+(?:esse|essa|isso|o\s+post|a\s+publicacao)\b",
    r"\b" + POST_NOUN + r"\s+(?:wasn't|was\s+not|isn't|weren't|wouldn't\s+be)\s+up\s+(?:any\s?more|"
    r"any\s+longer)\b",
    r"\b(?:hacer\s+desaparecer|no\s+dejes)\s+(?:el|la|esta|este|tu|esa|ese)\s+(?:\w+\s+)?(?:post|"
    r"publicacion|tuit|comentario|resena)\b",
    r"\b(?:nimm\w*|nehm\w*)\s+(?:du\s+)?(?:den|die|das|deinen|deine)\s+(?:\w+\s+)?(?:post|tweet|"
    r"beitrag|kommentar)\s+(?:\w+\s+){0,3}?raus\b|\b(?:post|beitrag|tweet|kommentar)\s+(?:\w+\s+){0,5}?"
    r"(?:auch\s+)?weg\b",
)
AMEND = _also(
    AMEND,
    r"\b(?:actualiz|modific|edit|corrig|mett\w*\s+a\s+jour|aktualisier|bearbeit|anpass|atualiz|"
    r"edit)\w*\s+(?:\w+\s+)?" + _POSTS_OTHER + r"\b",
)
CONTACT_ROUTE = _also(
    CONTACT_ROUTE,
    r"\b" + _DM + r"\b",
    r"\b(?:escribenos|llamanos|contactanos|mandanos|envianos|correo|telefono|"
    r"ecrivez(?:-|\s)nous|contactez(?:-|\s)nous|appelez(?:-|\s)nous|envoyez(?:-|\s)nous|ecris(?:-|\s)"
    r"nous|courriel|telephone|schreib\w*\s+(?:\w+\s+)?uns|ruf\w*\s+uns|melde\s+dich|melden\s+sie\s+"
    r"sich|telefon\w*|per\s+mail|chama\s+(?:a\s+gente\s+)?(?:na|no)|manda\s+(?:uma\s+)?|fal[ae]\s+com"
    r"\s+a\s+gente|nos\s+chame|telefone|fale\s+conosco)\b",
    # A staff member's own route ("mándame un mensaje directo", "schreib mir"), and chats.
    r"\b(?:mandame|escribeme|llamame|contactame|mensaje\s+directo|schreib\w*\s+mir|ruf\w*\s+mich|"
    r"(?:pelo|no|por|via)\s+chat|chat\s+(?:do|de|del|da)\s+(?:app|aplicativo|aplicacion|site|sitio))\b",
    r"\b(?:en|por|no|em|par)\s+(?:prive|privado|mp|md|message\s+prive)\b|\bprivat\b",
)
EMPATHY = _also(
    EMPATHY,
    r"\b(?:lo\s+siento|lo\s+sentimos|siento\s+mucho|sentimos\s+mucho|lamento|lamentamos|"
    r"que\s+(?:rabia|faena|fastidio|horror|pena|frustrante|mal|lata|rollo)|vaya|frustrante|"
    r"molest\w*|ojala|espero\s+que|entiendo|comprendo|disculpa\w*)\b",
    r"\b(?:desole\w*|navre\w*|quelle\s+galere|galere|penible|frustrant\w*|rageant|agacant|"
    r"j'espere|on\s+espere|nous\s+esperons|courage|excus\w*|je\s+comprends|nous\s+comprenons)\b",
    r"\b(?:tut\s+(?:mir|uns)\s+leid|leid\s+tun|argerlich\w*|frustrierend\w*|nervig\w*|mist|"
    r"hoffentlich|ich\s+hoffe|wir\s+hoffen|entschuldig\w*|verstandlich|wie\s+blod|"
    r"wie\s+doof|so\s+ein\s+(?:mist|arger))\b",
    r"\b(?:sinto\s+muito|sentimos\s+muito|lamento|lamentamos|que\s+(?:chato|droga|saco|"
    r"pena|situacao|raiva)|frustrante|espero\s+que|esperamos\s+que|poxa|desculp\w*|entendo|"
    r"imagino|percebo|compreendo|boa\s+sorte|indignacao)\b",
)
PROBLEM_WORDS = _also(
    PROBLEM_WORDS,
    r"\b(?:averia|caida|corte|sin\s+(?:internet|conexion|senal|servicio|luz)|factura\w*|cobro\w*|"
    r"reembolso|devolucion|retraso\w*|cancelad\w*|problema\w*|incidencia|tecnico|pedido|"
    r"panne|coupure|sans\s+(?:internet|connexion|reseau)|facture\w*|prelevement|remboursement|"
    r"retard\w*|annul\w*|probleme\w*|commande|storung\w*|ausfall|kein\s+(?:internet|netz|"
    r"empfang|strom)|rechnung\w*|erstattung|verspatung\w*|storniert|problem\w*|bestellung|"
    r"falha|queda|sem\s+(?:internet|sinal|conexao|luz)|fatura\w*|cobranca\w*|reembolso|atraso\w*|"
    r"cancelad\w*|problema\w*|pedido|entrega)\b",
)
# A staff member's personal account says who they work for: "I work at ...".
DISCLOSURE = _rx(
    r"\bi\s+work\s+(?:at|for|with|on)\b|\bi'm\s+(?:on|part\s+of|with)\s+(?:the\s+)?\b|"
    r"\bi\s+am\s+(?:on|part\s+of)\s+the\b|\b(?:i'm|i\s+am)\s+(?:an?\s+)?(?:employee|engineer|"
    r"dev|developer|staff|member\s+of\s+staff|product\s+manager|support\s+agent)\b|"
    r"\b(?:employee|staff|dev|developer|engineer|team\s+member)\s+(?:at|of|for)\b|"
    r"\b(?:full\s+)?disclosure\b|\bdisclaimer\b|\b(?:i'm|i\s+am)\s+(?:employed|paid)\s+by\b",
    r"\b(?:engineer|developer|dev|employee|staff|staffer|team\s+member|designer|founder|"
    r"manager|agent|rep|support)\s+here\b|\bfrom\s+the\s+(?:[\w&'-]+\s+){0,3}team\b",
    r"\bsoy\s+(?:yo,?\s+)?(?:la|el)\s+de\b|\bje\s+fais\s+partie\s+de\b|\bcompte\s+perso\b|"
    r"\btrabajo\s+(?:en|para)\b|\bsoy\s+(?:emplead[oa]|parte\s+del\s+equipo|del\s+equipo|"
    r"ingenier[oa]|de)\b|\btransparencia\b|\baviso\b",
    r"\bje\s+travaille\s+(?:chez|pour|a|dans)\b|\bje\s+suis\s+(?:employe|salarie|dans\s+"
    r"l'equipe|ingenieur|chez)\w*|\btransparence\b|\bdivulgation\b",
    r"\bich\s+arbeite\s+(?:bei|fur|im)\b|\bich\s+bin\s+(?:mitarbeiter\w*|bei|im\s+team|"
    r"entwickler\w*)\b|\btransparenzhinweis\b|\boffenlegung\b|\bhinweis\b",
    r"\btrabalho\s+(?:na|no|em|para)\b|\bsou\s+(?:funcionari[oa]|do\s+time|da\s+equipe|"
    r"engenheir[oa]|d[oa])\b|\btransparencia\b",
)


EMOJI_RUN = regex.compile(
    r"(?:(?:\p{Extended_Pictographic}|\p{Regional_Indicator})[\p{M}\u200d\ufe0f"
    r"\p{Extended_Pictographic}\p{Regional_Indicator}\U0001F3FB-\U0001F3FF]*\s*){3,}"
)
BANG = r"[!\u00a1\u2757\u2755\u203c\u2049\uff01]"  # ! and its look-alikes
EXCLAIM_RUN = regex.compile(BANG + r"(?:[?\s1]*" + BANG + r")+")
