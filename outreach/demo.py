"""Demo data for the outreach side: the three roles, a playbook of each kind and our
sandbox account. Called by ``manage.py demo``; safe to run again."""

from __future__ import annotations

import os
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from monitoring.models import Account
from outreach.models import Playbook, PlaybookKind

DEMO_USERS = (("analyst", "Analyst"), ("reviewer", "Reviewer"), ("admin", "Admin"))
SANDBOX_HANDLE = "northwind_care"  # the sandbox adapter's default account

PLAYBOOKS: dict[str, dict[str, Any]] = {
    PlaybookKind.COMPETITOR: {
        "name": "Competitor complaints: don't be a jackal",
        "guidance": (
            "Find out what happened and how big it is before writing anything. Read the thread "
            "and the person's recent posts. The first reply acknowledges their problem as one "
            "human to another: no product, no link, no offer, no call to action, no follow. "
            "If they answer, a conversation may start; if they do not, that is fine."
        ),
        "reply_templates": [
            "That sounds really frustrating. I hope it gets sorted out for you soon.",
            "Sorry to hear that, losing a whole evening to this is no fun. Hope it is fixed soon.",
        ],
        "freshness_hours": 72,
        "due_hours": 24,
        "engagement_window_days": 7,
        "cooldown_days": 30,
        "max_replies_per_brand_per_day": 20,
        "max_replies_per_incident": 5,
        "max_replies_per_account_per_hour": 4,
        "four_eyes": True,
        "auto_follow": False,
    },
    PlaybookKind.OWN_BRAND: {
        "name": "Own-brand service",
        "guidance": (
            "This is customer service, done as well as any other channel, and fast. Never "
            "threaten, argue or blame; never ask for the post to be deleted. Offer a private "
            "channel (DM or support email) to sort out the details. Once it is resolved, you "
            "may politely ask whether they would update the post."
        ),
        "reply_templates": [
            "Sorry about this, that should not happen. Could you DM us your account number so "
            "we can look into it straight away?",
            # Later in the conversation, once the person answered.
            "Thanks, we have your details and found the problem. It should work again now; "
            "tell us if it does not.",
            # After resolution, the one polite request to amend the post.
            "Glad it is sorted. If you feel it is fair, would you consider updating your post "
            "to say so? No pressure either way.",
        ],
        "freshness_hours": 72,
        "due_hours": 2,
        "engagement_window_days": 7,
        "cooldown_days": 7,
        "max_replies_per_brand_per_day": 200,
        "max_replies_per_incident": 50,
        "max_replies_per_account_per_hour": 20,
        "four_eyes": False,
        "auto_follow": False,
    },
}


def seed_demo(stdout: TextIO) -> None:
    """Create the demo users (in their groups), one active playbook per kind and our
    sandbox account, leaving anything that already exists alone."""
    password = os.environ.get("NOJACKAL_DEMO_PASSWORD", "nojackal-demo")
    User = get_user_model()
    with transaction.atomic():
        for username, group_name in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"is_staff": True, "email": f"{username}@example.invalid"},
            )
            if created:
                user.set_password(password)
                user.save()
            elif not user.is_staff:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            user.groups.add(Group.objects.get(name=group_name))
        made = []
        for kind, values in PLAYBOOKS.items():
            if not Playbook.objects.filter(kind=kind, is_active=True).exists():
                last = Playbook.objects.filter(kind=kind).order_by("-version").first()
                Playbook.objects.create(
                    kind=kind,
                    version=(last.version + 1) if last else 1,
                    change_note="demo playbook",
                    **values,
                )
                made.append(PlaybookKind(kind).label)
        Account.objects.get_or_create(
            platform="sandbox",
            handle=SANDBOX_HANDLE,
            defaults={
                "display_name": "Northwind Care (demo)",
                "options": {"handle": SANDBOX_HANDLE},
                "max_sends_per_hour": 30,
            },
        )
    stdout.write(
        "Outreach: users analyst (Analyst), reviewer (Reviewer), admin (Admin); "
        + (f"new playbooks: {', '.join(made)}." if made else "playbooks already in place.")
        + "\n"
    )
