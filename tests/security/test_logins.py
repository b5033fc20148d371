"""Sign-in hardening: throttling and lockout (django-axes), an optional second factor
(django-otp TOTP), password validators, session and security headers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "pw"  # tests/outreach/factories.py UserFactory


def sign_in(client: Client, username: str, password: str, *, token: str = "", ip: str = "10.9.8.7"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "otp_token": token},
        REMOTE_ADDR=ip,
    )


def signed_in(client: Client) -> bool:
    return client.get("/admin/", REMOTE_ADDR="10.9.8.7").status_code == 200


def _code(device: TOTPDevice) -> str:
    """The device's code for now, as the user's authenticator app shows it."""
    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{generator.token():0{device.digits}d}"


@pytest.mark.django_db
def test_fifty_wrong_passwords_then_the_right_one_is_refused(analyst: Any) -> None:
    client = Client()
    for _ in range(50):
        sign_in(client, "analyst", "wrong")
    response = sign_in(client, "analyst", PASSWORD)
    assert response.status_code == 429
    assert "Sign-in locked" in response.content.decode()
    assert not signed_in(client)


@pytest.mark.django_db
def test_five_failures_lock_the_user_from_every_address(analyst: Any) -> None:
    for n in range(5):
        sign_in(Client(), "analyst", "wrong", ip=f"10.0.0.{n + 1}")
    response = sign_in(Client(), "analyst", PASSWORD, ip="10.0.1.1")
    assert response.status_code == 429


@pytest.mark.django_db
def test_five_failures_from_one_address_lock_that_address_for_every_user(
    analyst: Any, reviewer: Any
) -> None:
    for n in range(5):
        sign_in(Client(), f"nobody{n}", "wrong", ip="10.0.0.9")
    assert sign_in(Client(), "reviewer", PASSWORD, ip="10.0.0.9").status_code == 429
    client = Client()
    sign_in(client, "reviewer", PASSWORD, ip="10.0.0.10")
    assert signed_in(client)


@pytest.mark.django_db
def test_four_failures_do_not_lock_and_success_resets_the_count(analyst: Any) -> None:
    for _ in range(4):
        sign_in(Client(), "analyst", "wrong")
    client = Client()
    sign_in(client, "analyst", PASSWORD)
    assert signed_in(client)
    for _ in range(4):
        sign_in(Client(), "analyst", "wrong")
    client = Client()
    sign_in(client, "analyst", PASSWORD)
    assert signed_in(client)


@pytest.mark.django_db
def test_the_lock_lifts_after_fifteen_minutes(analyst: Any) -> None:
    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            sign_in(Client(), "analyst", "wrong")
        assert sign_in(Client(), "analyst", PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        client = Client()
        sign_in(client, "analyst", PASSWORD)
        assert signed_in(client)


@pytest.mark.django_db
def test_an_admin_unlocks_a_user_from_the_access_attempts_page(
    analyst: Any, django_user_model: Any
) -> None:
    for _ in range(5):
        sign_in(Client(), "analyst", "wrong")
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    admin = Client()
    admin.force_login(root)
    page = admin.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    assert "analyst" in page.content.decode()
    from axes.models import AccessAttempt

    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    client = Client()
    sign_in(client, "analyst", PASSWORD)
    assert signed_in(client)


@pytest.mark.django_db
def test_a_user_with_an_authenticator_must_give_its_code(analyst: Any) -> None:
    device = TOTPDevice.objects.create(user=analyst, name="phone", confirmed=True)
    without = sign_in(Client(), "analyst", PASSWORD)
    assert "Enter the one-time code" in without.content.decode()
    other = "000000" if _code(device) != "000000" else "111111"
    wrong = sign_in(Client(), "analyst", PASSWORD, token=other)
    assert "not valid" in wrong.content.decode()
    # A wrong code throttles the device for a second or two (django-otp), as it should.
    with time_machine.travel(dt.timedelta(seconds=5)):
        device.refresh_from_db()
        client = Client()
        sign_in(client, "analyst", PASSWORD, token=_code(device))
        assert signed_in(client)


@pytest.mark.django_db
def test_a_session_from_before_the_second_factor_is_asked_again(analyst: Any) -> None:
    client = Client()
    sign_in(client, "analyst", PASSWORD)
    assert signed_in(client)
    TOTPDevice.objects.create(user=analyst, name="phone", confirmed=True)
    assert not signed_in(client)


@pytest.mark.django_db
def test_required_second_factor_refuses_a_reviewer_without_one(
    reviewer: Any, settings: Any
) -> None:
    settings.NOJACKAL_REQUIRE_OTP = True
    response = sign_in(Client(), "reviewer", PASSWORD)
    assert "A second factor is required" in response.content.decode()


@pytest.mark.django_db
def test_required_second_factor_still_lets_an_analyst_in_without_one(
    analyst: Any, settings: Any
) -> None:
    settings.NOJACKAL_REQUIRE_OTP = True
    client = Client()
    sign_in(client, "analyst", PASSWORD)
    assert signed_in(client)


@pytest.mark.django_db
def test_otp_setup_gives_a_reviewer_a_working_second_factor(
    reviewer: Any, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.NOJACKAL_REQUIRE_OTP = True
    call_command("otp_setup", "reviewer")
    assert "otpauth://totp/" in capsys.readouterr().out
    device = TOTPDevice.objects.get(user=reviewer)
    client = Client()
    sign_in(client, "reviewer", PASSWORD, token=_code(device))
    assert signed_in(client)


def test_short_and_common_passwords_are_refused() -> None:
    with pytest.raises(ValidationError):
        validate_password("nojackal1")
    with pytest.raises(ValidationError):
        validate_password("password1234")
    validate_password("correct horse battery staple")


@pytest.mark.django_db
def test_admin_pages_carry_a_content_security_policy_without_inline_scripts(
    admin_user: Any,
) -> None:
    client = Client()
    client.force_login(admin_user)
    for url in ("/admin/", "/admin/login/", "/admin/outreach/case/"):
        response = client.get(url)
        policy = response.headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["script-src"] == "'self'", url
        assert "unsafe-inline" not in directives["script-src"]
        assert directives["frame-ancestors"] == "'none'"
