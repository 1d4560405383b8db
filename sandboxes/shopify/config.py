"""Sandbox settings; every knob a test may want to turn."""

from __future__ import annotations

from dataclasses import dataclass, field


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
