"""The limits no playbook edit can cross (rules 6 and 7).

Plain constants, free of Django models, so that ``config/settings.py`` can read
them before the apps load. The database holds the same numbers as check
constraints on ``Playbook``; the settings ``NOJACKAL_MIN_COOLDOWN_DAYS`` and
``NOJACKAL_MAX_REPLIES_*`` may only make them stricter.
"""

from __future__ import annotations

# Rule 6: after a case closes, no new case for the same person this soon,
# whatever a playbook says (the playbook default is 30 days).
MIN_COOLDOWN_DAYS = 7

# Rule 7: the caps that limit our replies to a competitor's customers cannot be
# raised above these. A cap limits sends, so its bound is a ceiling; an own-brand
# (customer service) playbook is not piling on and has no ceiling.
CAP_CEILINGS: dict[str, int] = {
    "max_replies_per_brand_per_day": 50,
    "max_replies_per_incident": 20,
    "max_replies_per_account_per_hour": 60,
}

# The setting that may tighten each cap's ceiling.
CAP_SETTINGS: dict[str, str] = {
    "max_replies_per_brand_per_day": "NOJACKAL_MAX_REPLIES_PER_BRAND_PER_DAY",
    "max_replies_per_incident": "NOJACKAL_MAX_REPLIES_PER_INCIDENT",
    "max_replies_per_account_per_hour": "NOJACKAL_MAX_REPLIES_PER_ACCOUNT_PER_HOUR",
}
