"""Load the demo: the sandbox network, its brands and sources, and the demo users. Idempotent.

It lives in outreach because it seeds both sides (the demo users and playbooks
come from ``outreach.demo``); monitoring does not reach into outreach.
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from monitoring import sandbox_server as sandbox
from monitoring.models import Brand, Source
from outreach.demo import seed_demo


class Command(BaseCommand):
    help = "Seed the sandbox network, demo brands, sources and users (safe to run again)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--cadence", type=int, default=20, help="Seconds between polls of each demo source."
        )

    def handle(self, *args: Any, cadence: int, **options: Any) -> None:
        password = os.environ.get("NOJACKAL_DEMO_PASSWORD", "nojackal-demo")
        with transaction.atomic():
            brands = self._brands()
            sources = self._sources(brands, cadence)
            posts = sandbox.seed(timezone.now())
            users = self._users(password)
        self.stdout.write(
            f"Sandbox network: {posts} new post(s) scheduled; "
            f"{len(brands)} brands, {sources} new source(s)."
        )
        port = os.environ.get("NOJACKAL_PORT", "8000")
        self.stdout.write(self.style.SUCCESS(f"\n  Admin: http://127.0.0.1:{port}/admin/"))
        for username in users:
            self.stdout.write(self.style.SUCCESS(f"  Login: {username} / {password}"))
        self.stdout.write("")

    def _brands(self) -> list[Brand]:
        brands = []
        for item in sandbox.load_corpus()["brands"]:
            brand, _ = Brand.objects.get_or_create(
                name=item["name"],
                defaults={
                    "kind": item["kind"],
                    "aliases": item.get("aliases", []),
                    "products": item.get("products", []),
                    "handles": item.get("handles", {}),
                    "exclusions": item.get("exclusions", []),
                },
            )
            brands.append(brand)
        return brands

    def _sources(self, brands: list[Brand], cadence: int) -> int:
        created = 0
        for brand in brands:
            terms = brand.all_terms() + list(brand.handles.get("sandbox", []))
            _, was_created = Source.objects.get_or_create(
                name=f"Sandbox: {brand.name}",
                defaults={
                    "platform": "sandbox",
                    "brand": brand,
                    "terms": terms,
                    "exclusions": brand.exclusions,
                    "cadence_seconds": cadence,
                },
            )
            created += was_created
        return created

    def _users(self, password: str) -> list[str]:
        seed_demo(self.stdout)
        # The demo's admin also looks after the machinery (periodic tasks, the
        # sandbox tables), so it is a superuser as well as in the Admin group.
        get_user_model().objects.filter(username="admin").update(is_superuser=True)
        return ["analyst", "reviewer", "admin"]
