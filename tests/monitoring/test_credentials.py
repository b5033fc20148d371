"""Account and source credentials are encrypted at rest with the key from the environment."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from monitoring import credentials
from tests.factories import AccountFactory

pytestmark = pytest.mark.usefixtures("secrets_key")


def test_credentials_round_trip(settings: Any) -> None:
    token = credentials.encrypt_json({"access_token": "s3cret", "unicode": "ключ"})
    assert "s3cret" not in token
    assert credentials.decrypt_json(token) == {"access_token": "s3cret", "unicode": "ключ"}


@pytest.mark.parametrize("value", ["", "   ", ","])
def test_a_missing_key_fails_clearly(settings: Any, value: str) -> None:
    settings.NOJACKAL_SECRETS_KEY = value
    with pytest.raises(ImproperlyConfigured, match="NOJACKAL_SECRETS_KEY is not set"):
        credentials.encrypt_json({"a": "b"})


def test_a_malformed_key_fails_clearly(settings: Any) -> None:
    settings.NOJACKAL_SECRETS_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        credentials.encrypt_json({"a": "b"})


def test_a_changed_key_cannot_read_old_credentials(settings: Any) -> None:
    token = credentials.encrypt_json({"a": "b"})
    settings.NOJACKAL_SECRETS_KEY = Fernet.generate_key().decode()
    with pytest.raises(credentials.CredentialsError, match="cannot be decrypted"):
        credentials.decrypt_json(token)


@pytest.mark.parametrize("token", ["", "garbage", "\u202e<script>"])
def test_a_malformed_token_is_a_credentials_error(token: str) -> None:
    with pytest.raises(credentials.CredentialsError):
        credentials.decrypt_json(token)


def test_keys_rotate_new_key_first_old_key_still_reads(settings: Any) -> None:
    old = settings.NOJACKAL_SECRETS_KEY
    token = credentials.encrypt_json({"a": "b"})
    new = Fernet.generate_key().decode()
    settings.NOJACKAL_SECRETS_KEY = f"{new},{old}"
    assert credentials.decrypt_json(token) == {"a": "b"}
    rotated = credentials.rotate(token)
    settings.NOJACKAL_SECRETS_KEY = new
    assert credentials.decrypt_json(rotated) == {"a": "b"}


@pytest.mark.django_db
def test_account_keeps_credentials_encrypted_in_the_database() -> None:
    account = AccountFactory()
    account.set_credentials({"password": "hunter2"})
    account.save()
    account.refresh_from_db()
    assert "hunter2" not in account.credentials_encrypted
    assert account.has_credentials and account.get_credentials() == {"password": "hunter2"}
    account.set_credentials({})
    assert not account.has_credentials and account.get_credentials() == {}
