"""Encryption at rest for secrets Dropline must be able to read back (platform access and refresh tokens).

FIELD_ENCRYPTION_KEY holds one or more Fernet keys, comma-separated. The first encrypts; every key decrypts, so a
key can be rotated without downtime: put the new key first, deploy, run `manage.py encryption_rotate`, then drop the
old key. Values are Fernet tokens (AES-128-CBC + HMAC-SHA256, with the encryption time inside).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])
    except ValueError as error:
        message = f"FIELD_ENCRYPTION_KEY is not a comma-separated list of Fernet keys: {error}"
        raise ImproperlyConfigured(message) from None


def encrypt(plaintext: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEY: was a key removed before rotation?"
        ) from None


def rotate(token: str) -> str:
    """The same secret, re-encrypted with the first (current) key."""
    return _fernet(settings.FIELD_ENCRYPTION_KEY).rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted. Not searchable, not orderable; empty stays empty."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return decrypt(value) if value else value

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
