"""The reply contexts the tone guard's tests judge replies in: our brand Northwind, the
competitors' customers' post and our own customer's."""

from __future__ import annotations

import dataclasses
from typing import Any

from outreach.tone import ReplyContext

OWN = ("Northwind", "Northwind Fibre", "Northwind Go", "NW Unlimited")
COMPETITORS = ("Telvana", "Orbix", "Orbix Flex", "Zephyrline", "ZephyrNet")
POST = "Telvana has been down since 6am and I work from home. Three calls, three answers."
OWN_POST = "Northwind Fibre has been down for 2 days and your support line hangs up on me."


def competitor(**changes: Any) -> ReplyContext:
    base = ReplyContext(
        playbook="competitor", own_terms=OWN, competitor_terms=COMPETITORS, post_text=POST
    )
    return dataclasses.replace(base, **changes)


def own_brand(**changes: Any) -> ReplyContext:
    base = ReplyContext(
        playbook="own_brand", own_terms=OWN, competitor_terms=COMPETITORS, post_text=OWN_POST
    )
    return dataclasses.replace(base, **changes)
