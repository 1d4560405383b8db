"""Typed configuration of the TikTok Shop app (one per Dropline deployment, not per store)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TikTokConfig:
    app_key: str
    app_secret: str
    service_id: str
    api_base_url: str  # open API host, e.g. https://open-api.tiktokglobalshop.com
    auth_base_url: str  # token host, e.g. https://auth.tiktok-shops.com (paths /api/v2/token/get|refresh)
    authorize_url: str  # seller consent page, e.g. https://services.us.tiktokshop.com/open/authorize
    redis_url: str = ""  # empty: in-process rate limiter (embedded dev mode only)
    # TikTok's documented default is 50 QPS per API per app+shop; configurable because some APIs/shops differ.
    rate_limit_qps: int = 50
    rate_limit_max_wait_seconds: float = 30.0  # a caller waiting longer gets a retryable PlatformError instead
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    write_timeout: float = 30.0
    pool_timeout: float = 10.0
    max_attempts: int = 5  # per call, for retryable failures (429/503/36009002/36009003/transport)
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 10.0
    # Refresh the access token proactively when it expires within this margin (TikTok's lifetime is ~7 days).
    token_refresh_margin_seconds: int = 3600
    document_download_max_bytes: int = 20 * 1024 * 1024

    @classmethod
    def from_settings(cls) -> TikTokConfig:
        from django.conf import settings

        def opt(name: str, default: object) -> object:
            return getattr(settings, name, default)

        return cls(
            app_key=settings.TIKTOK_APP_KEY,
            app_secret=settings.TIKTOK_APP_SECRET,
            service_id=settings.TIKTOK_SERVICE_ID,
            api_base_url=settings.TIKTOK_API_BASE_URL.rstrip("/"),
            auth_base_url=settings.TIKTOK_AUTH_BASE_URL.rstrip("/"),
            authorize_url=settings.TIKTOK_AUTHORIZE_URL,
            redis_url=getattr(settings, "REDIS_URL", "") or "",
            rate_limit_qps=int(opt("TIKTOK_RATE_LIMIT_QPS", 50)),  # type: ignore[call-overload]
            rate_limit_max_wait_seconds=float(opt("TIKTOK_RATE_LIMIT_MAX_WAIT", 30.0)),  # type: ignore[arg-type]
            connect_timeout=float(opt("TIKTOK_CONNECT_TIMEOUT", 5.0)),  # type: ignore[arg-type]
            read_timeout=float(opt("TIKTOK_READ_TIMEOUT", 30.0)),  # type: ignore[arg-type]
            max_attempts=int(opt("TIKTOK_MAX_ATTEMPTS", 5)),  # type: ignore[call-overload]
            token_refresh_margin_seconds=int(opt("TIKTOK_TOKEN_REFRESH_MARGIN", 3600)),  # type: ignore[call-overload]
        )
