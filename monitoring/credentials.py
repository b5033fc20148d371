"""Platform credentials (accounts' and sources') encrypted at rest with a key from the environment.

``NOJACKAL_SECRETS_KEY`` holds one or more Fernet keys separated by commas. The
first encrypts; all of them decrypt, so a key can be rotated by putting the new
one first and re-saving the accounts (``rotate``). Generate a key with
``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialsError(Exception):
    """Stored credentials cannot be read with the configured keys."""


def _fernet() -> MultiFernet:
    raw = getattr(settings, "NOJACKAL_SECRETS_KEY", "") or ""
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise ImproperlyConfigured(
            "NOJACKAL_SECRETS_KEY is not set: account credentials cannot be encrypted or read. "
            'Generate one with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        )
    try:
        return MultiFernet([Fernet(k.encode("ascii")) for k in keys])
    except (ValueError, UnicodeEncodeError):
        raise ImproperlyConfigured(
            "NOJACKAL_SECRETS_KEY must be one or more comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each)."
        ) from None


def encrypt_json(value: dict[str, str]) -> str:
    """Encrypt a small mapping of secrets to a text token."""
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode("utf-8")).decode("ascii")


def decrypt_json(token: str) -> dict[str, str]:
    """Decrypt a token written by ``encrypt_json``; CredentialsError if no key fits."""
    try:
        data = _fernet().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        raise CredentialsError(
            "stored credentials cannot be decrypted with NOJACKAL_SECRETS_KEY "
            "(was the key changed without keeping the old one?)"
        ) from None
    value = json.loads(data)
    if not isinstance(value, dict):
        raise CredentialsError("stored credentials are not a mapping")
    return {str(k): str(v) for k, v in value.items()}


def rotate(token: str) -> str:
    """Re-encrypt a token under the first (newest) key."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")
