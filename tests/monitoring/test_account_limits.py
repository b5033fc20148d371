"""Platform limits cached on the account: read without the network, refreshed by a tick
and by "Test connection", and kept when a refresh fails."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from pytest_httpserver import HTTPServer

from monitoring import limits
from monitoring.models import Account
from monitoring.platforms import Limits
from monitoring.platforms.mastodon import MastodonPlatform
from monitoring.platforms.sandbox import SandboxPlatform
from tests.monitoring.platforms.test_mastodon import body

pytestmark = pytest.mark.django_db

INSTANCE = "/api/v2/instance/"


def _mastodon(httpserver: HTTPServer, **fields: Any) -> Account:
    account = Account(
        platform="mastodon",
        handle="nw@social.example",
        options={"api_base_url": httpserver.url_for("/").rstrip("/"), "timeout": 2},
        **fields,
    )
    account.set_credentials({"access_token": "t0ken"})
    account.save()
    return account


def _instance(max_characters: int) -> dict[str, Any]:
    instance = body("instance_v2")
    instance["configuration"]["statuses"]["max_characters"] = max_characters
    return instance


def test_cached_limits_never_call_the_platform_nor_the_database(
    httpserver: HTTPServer, secrets_key: str, django_assert_num_queries: Any
) -> None:
    # The instance would say 5000; never asked, the account gives Mastodon's defaults.
    httpserver.expect_request(INSTANCE).respond_with_json(_instance(5000))
    fresh = Account.objects.get(pk=_mastodon(httpserver).pk)
    with django_assert_num_queries(0):
        found = fresh.cached_limits()
    assert found == MastodonPlatform.default_limits()
    assert found.reply_max_length == 500
    assert httpserver.log == []


def test_cached_limits_read_what_was_stored() -> None:
    stored = dataclasses.replace(SandboxPlatform().limits(), reply_max_length=123)
    account = Account.objects.create(
        platform="sandbox", handle="northwind_care", limits=dataclasses.asdict(stored)
    )
    assert Account.objects.get(pk=account.pk).cached_limits() == stored


def test_a_stored_value_of_another_shape_falls_back_to_the_defaults() -> None:
    account = Account(platform="sandbox", handle="x", limits={"max_len": 9, "unit": "bytes"})
    assert account.cached_limits() == SandboxPlatform.default_limits()
    # unknown extra keys (a field since removed) are ignored, the rest is kept
    account.limits = {"reply_max_length": 77, "gone": True}
    assert account.cached_limits() == Limits(reply_max_length=77)


def test_the_tick_refreshes_every_usable_account(httpserver: HTTPServer, secrets_key: str) -> None:
    httpserver.expect_request(INSTANCE).respond_with_json(_instance(5000))
    mastodon = _mastodon(httpserver)
    sandbox = Account.objects.create(platform="sandbox", handle="northwind_care")
    off = Account.objects.create(platform="sandbox", handle="paused", enabled=False)
    held = Account.objects.create(
        platform="sandbox",
        handle="held",
        rate_limited_until=timezone.now() + dt.timedelta(minutes=5),
    )

    assert limits.refresh_limits_tick.delay().get() == 2

    mastodon.refresh_from_db()
    assert mastodon.cached_limits().reply_max_length == 5000
    assert mastodon.limits_checked_at is not None
    sandbox.refresh_from_db()
    assert sandbox.limits == dataclasses.asdict(SandboxPlatform().limits())
    for untouched in (off, held):
        untouched.refresh_from_db()
        assert untouched.limits == {} and untouched.limits_checked_at is None


def test_the_tick_is_declared_hourly_with_an_expiry() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-account-limits"]
    assert entry["task"] == limits.refresh_limits_tick.name
    assert entry["schedule"] == 3600.0 and 0 < entry["options"]["expire_seconds"] < 3600


def test_a_failing_refresh_keeps_the_old_value_and_logs(
    httpserver: HTTPServer, secrets_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request(INSTANCE).respond_with_json({"error": "boom"}, status=500)
    checked = timezone.now() - dt.timedelta(hours=2)
    known = dataclasses.asdict(MastodonPlatform.default_limits()) | {"reply_max_length": 5000}
    account = _mastodon(httpserver, limits=known, limits_checked_at=checked)

    with caplog.at_level(logging.WARNING, logger="monitoring.limits"):
        assert limits.refresh_account_limits.delay(account.pk).get() is False

    account.refresh_from_db()
    assert account.limits == known and account.limits_checked_at == checked
    assert account.cached_limits().reply_max_length == 5000
    assert "limits not refreshed" in caplog.text and "t0ken" not in caplog.text


def test_an_instance_that_does_not_state_its_limits_is_a_failed_refresh(
    httpserver: HTTPServer, secrets_key: str
) -> None:
    httpserver.expect_request(INSTANCE).respond_with_json({"configuration": {}})
    account = _mastodon(httpserver)
    assert limits.refresh(account.pk) is False
    account.refresh_from_db()
    assert account.limits == {} and account.limits_checked_at is None


def test_test_connection_refreshes_the_limits_of_the_accounts_it_reached(
    admin_client: Any, secrets_key: str
) -> None:
    reached = Account.objects.create(platform="sandbox", handle="northwind_care")
    broken = Account(platform="mastodon", handle="nobody")  # no instance URL: refused
    broken.set_credentials({"access_token": "t0ken"})
    broken.save()

    response = admin_client.post(
        reverse("admin:monitoring_account_changelist"),
        {"action": "test_connection", "_selected_action": [reached.pk, broken.pk]},
        follow=True,
    )

    assert "limits refreshed" in response.content.decode()
    reached.refresh_from_db()
    assert reached.limits_checked_at is not None
    assert reached.limits == dataclasses.asdict(SandboxPlatform().limits())
    broken.refresh_from_db()
    assert broken.limits == {} and broken.limits_checked_at is None
    page = admin_client.get(reverse("admin:monitoring_account_change", args=[reached.pk]))
    assert f"replies up to {SandboxPlatform().limits().reply_max_length}" in page.content.decode()


@pytest.mark.django_db
def test_the_account_add_form_opens_before_a_platform_is_chosen(admin_client: Any) -> None:
    # When an admin opens the form for a new account (found by the browser tests: a 500)
    response = admin_client.get(reverse("admin:monitoring_account_add"))

    # Then it opens, and says the limits come once the account is saved
    assert response.status_code == 200
    assert b"shown once the account is saved" in response.content
