"""Sandbox settings; every knob a test may want to turn."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .topics import COMPLIANCE_TOPICS, TOPIC_SCOPES


@dataclass
class ShopifyConfig:
    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"  # noqa: S105 - a sandbox default, not a real secret
    # The app's allowed redirection URLs (Partner Dashboard); empty means any.
    redirect_uris: list[str] = field(default_factory=list)
    seed: int = 1
    seed_default: bool = True
    orders_per_shop: int = 24
    access_token_ttl: int = 3600  # §2.4: expiring offline tokens live one hour
    refresh_token_ttl: int = 90 * 86_400  # not stated in the notes: a guess (docs/platforms/shopify-sandbox.md)
    auth_code_ttl: int = 600
    hmac_tolerance_seconds: int = 90
    # §2.4: public apps created on/after 2026-04-01 must use expiring tokens; True rejects expiring="0".
    require_expiring_tokens: bool = False
    # §6: cost bucket, configurable because the new tiers' bucket size is not published.
    maximum_available: float = 2000.0
    restore_rate: float = 100.0
    throttle_status_code: int = 200  # §6: 200 + THROTTLED by default; 429 as the alternative
    # §3.3: without read_all_orders only the last 60 days of orders are visible.
    recent_orders_days: int = 60
    max_page_size: int = 250
    max_input_size: int = 250  # §3.3: input arrays above 250 items are refused
    # §5.3: the notes could not confirm inventorySetQuantities is on the 2026-04 mandatory-@idempotent list; strict by
    # default (a client that always sends the key loses nothing), False to accept calls without it.
    idempotency_required_for_set_quantities: bool = True
    idempotency_ttl_seconds: int = 24 * 3600  # how long a key answers its first result [guess]
    # §7.4: shopify.app.toml's [[webhooks.subscriptions]] blocks, for this app on every shop it is installed on:
    # [{"topics": ["orders/create"], "compliance_topics": ["customers/redact"], "uri": "https://..."}].
    app_webhooks: list[dict[str, Any]] = field(default_factory=list)
    webhooks_api_version: str = "2026-07"  # the app config's [webhooks] api_version
    # §7.3: 1 s to connect, 5 s for the answer; retries on RETRY_DELAYS x scale (tests compress it, e.g. 0.001).
    webhook_connect_timeout: float = 1.0
    webhook_timeout: float = 5.0
    webhook_retry_scale: float = 1.0
    webhook_poll_seconds: float = 0.5
    # §7.3 [3P]: Shopify "can delete" an Admin-API subscription after 8 consecutive failures; off unless asked.
    webhook_delete_failing_subscriptions: bool = False
    # Shopify only accepts https webhook addresses; plain http is allowed to these hosts so local receivers work
    # ("*" = any host).
    insecure_webhook_hosts: list[str] = field(default_factory=lambda: ["127.0.0.1", "localhost", "::1"])
    state_file: str | None = None

    @classmethod
    def from_env(cls) -> ShopifyConfig:
        """SHOPIFY_CLIENT_ID, SHOPIFY_CLIENT_SECRET, SHOPIFY_REDIRECT_URI (comma-separated), SHOPIFY_SANDBOX_WEBHOOK_URL
        (every topic of the app config to that address), SHOPIFY_SANDBOX_STATE_FILE."""
        env = os.environ
        cfg = cls(
            client_id=env.get("SHOPIFY_CLIENT_ID", cls.client_id),
            client_secret=env.get("SHOPIFY_CLIENT_SECRET", cls.client_secret),
            redirect_uris=[u for u in env.get("SHOPIFY_REDIRECT_URI", "").split(",") if u],
            state_file=env.get("SHOPIFY_SANDBOX_STATE_FILE") or None,
        )
        if env.get("SHOPIFY_SANDBOX_WEBHOOK_URL"):
            cfg.subscribe_all(env["SHOPIFY_SANDBOX_WEBHOOK_URL"])
        return cfg

    def subscribe_all(self, uri: str) -> None:
        """The app config subscribes every topic the sandbox emits, compliance topics included, to one address."""
        self.app_webhooks.append(
            {"topics": list(TOPIC_SCOPES), "compliance_topics": list(COMPLIANCE_TOPICS), "uri": uri}
        )
