"""Secrets at rest: Fernet with rotation (first key encrypts, every key decrypts)."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from erp import crypto


def test_round_trip_and_ciphertext_differs_each_time(settings: pytest.FixtureRequest) -> None:
    token = crypto.encrypt("TTP_secret_access_token")
    assert "TTP_secret" not in token
    assert token != crypto.encrypt("TTP_secret_access_token")
    assert crypto.decrypt(token) == "TTP_secret_access_token"


def test_rotation_keeps_old_values_readable_and_moves_them_to_the_new_key(settings: pytest.FixtureRequest) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    stored = crypto.encrypt("refresh-me")
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    assert crypto.decrypt(stored) == "refresh-me"
    rotated = crypto.rotate(stored)
    settings.FIELD_ENCRYPTION_KEY = new
    assert crypto.decrypt(rotated) == "refresh-me"
    with pytest.raises(ImproperlyConfigured, match="removed before rotation"):
        crypto.decrypt(stored)


def test_a_malformed_key_is_a_configuration_error(settings: pytest.FixtureRequest) -> None:
    settings.FIELD_ENCRYPTION_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured, match="Fernet"):
        crypto.encrypt("x")
