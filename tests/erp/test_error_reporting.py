"""Optional error reporting (erp/error_reporting.py): off without SENTRY_DSN; with it, no personal data, and events
tagged with the log context and redacted. The SDK's init is captured, not run: its Django integration patches
Django for the rest of the process."""

from __future__ import annotations

from typing import Any

import pytest

from erp.error_reporting import _before_send, error_reporting_init
from erp.log import log_context


def test_off_unless_a_dsn_is_set(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.SENTRY_DSN = ""
    monkeypatch.setattr("sentry_sdk.init", lambda **kwargs: pytest.fail("Sentry started without a DSN"))
    assert error_reporting_init() is False


def test_with_a_dsn_it_starts_without_personal_data(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.SENTRY_DSN = "https://0123456789abcdef@errors.example.com/7"
    settings.SENTRY_ENVIRONMENT = "staging"
    started: dict[str, Any] = {}
    monkeypatch.setattr("sentry_sdk.init", lambda **kwargs: started.update(kwargs))
    assert error_reporting_init() is True
    assert started["dsn"] == settings.SENTRY_DSN
    assert started["environment"] == "staging"
    assert started["send_default_pii"] is False
    assert started["max_request_body_size"] == "never"
    assert started["before_send"] is _before_send


def test_events_carry_the_log_context_and_lose_their_secrets() -> None:
    event: Any = {
        "logentry": {"message": "refresh failed: refresh_token=RT9zzq81abc", "formatted": "access_token=abcdef1234"},
        "exception": {"values": [{"type": "PlatformError", "value": "client_secret=hush-hush-hush refused"}]},
    }
    with log_context(request_id="req-1", store="s-1", task="orders.sync_store"):
        sent = _before_send(event, {})
    assert sent["tags"] == {"request_id": "req-1", "store": "s-1", "task": "orders.sync_store"}
    text = str(sent)
    for secret in ("RT9zzq81abc", "abcdef1234", "hush-hush-hush"):
        assert secret not in text
