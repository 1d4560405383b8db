"""Sandbox configuration."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class SandboxConfig:
    """Everything the sandbox needs to know about "the app" and its own behaviour.

    Every field has a default so tests can build one with only what they care about.
    """

    app_key: str = "6dropsandbox"
    app_secret: str = "dropline-sandbox-secret"  # noqa: S105 - a sandbox default, not a real secret
    service_id: str = "7000000000000000001"
    redirect_uri: str = "http://127.0.0.1:8000/stores/tiktok/callback/"
    rate_limit_qps: int = 50
    seed: int = 1234
    state_file: str | None = None
    webhook_url: str | None = None
    seed_default: bool = True
    # Orders per seeded shop; kept small so startup is instant (bulk creation goes through the control API).
    seed_orders_per_shop: int = 120
    # Timestamp window of the gateway, in REAL wall-clock seconds (TikTok: -5 min / +30 s).
    timestamp_past_window: int = 300
    timestamp_future_window: int = 30
    # Background webhook delivery thread poll interval (server mode only).
    webhook_poll_seconds: float = 0.5
    webhook_timeout_seconds: float = 3.0
    # Used to build doc_url when the request has no Host header (in-process transports always send one).
    public_base_url: str = "http://127.0.0.1:8765"

    @classmethod
    def from_env(cls) -> SandboxConfig:
        env = os.environ
        return cls(
            app_key=env.get("TIKTOK_APP_KEY", "6dropsandbox"),
            app_secret=env.get("TIKTOK_APP_SECRET", "dropline-sandbox-secret"),
            service_id=env.get("TIKTOK_SERVICE_ID", "7000000000000000001"),
            redirect_uri=env.get("TIKTOK_REDIRECT_URI", "http://127.0.0.1:8000/stores/tiktok/callback/"),
            webhook_url=env.get("TIKTOK_SANDBOX_WEBHOOK_URL") or None,
            state_file=env.get("TIKTOK_SANDBOX_STATE_FILE") or None,
            rate_limit_qps=int(env.get("TIKTOK_SANDBOX_RATE_LIMIT_QPS", "50")),
        )
