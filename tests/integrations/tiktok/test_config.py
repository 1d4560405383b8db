"""The typed config reads Django settings, with defaults for the optional knobs."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings

from integrations.tiktok.config import TikTokConfig


def test_from_settings_reads_the_required_settings() -> None:
    config = TikTokConfig.from_settings()

    assert config.app_key == settings.TIKTOK_APP_KEY
    assert config.app_secret == settings.TIKTOK_APP_SECRET
    assert config.api_base_url == settings.TIKTOK_API_BASE_URL.rstrip("/")
    assert config.auth_base_url == settings.TIKTOK_AUTH_BASE_URL.rstrip("/")
    assert config.authorize_url == settings.TIKTOK_AUTHORIZE_URL
    assert config.redis_url == settings.REDIS_URL
    assert config.rate_limit_qps == 50


@override_settings(TIKTOK_RATE_LIMIT_QPS=20, TIKTOK_READ_TIMEOUT=7, REDIS_URL="")
def test_optional_settings_override_defaults() -> None:
    config = TikTokConfig.from_settings()

    assert (config.rate_limit_qps, config.read_timeout, config.redis_url) == (20, 7.0, "")
