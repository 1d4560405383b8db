"""Typed configuration of Dropline's Shopify app (one per deployment, not per shop)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class ShopifyConfig:
    client_id: str
    client_secret: str
    api_version: str  # pinned, never "latest" (§1)
    # Every shop is its own host: "https://{shop}" in production, "{sandbox}/{shop}" against the sandbox (which takes
    # the shop as a path prefix). Only this differs between the two.
    shop_url_template: str
    redirect_uri: str  # DROPLINE_PUBLIC_URL + /stores/shopify/callback/, registered in the app's config
    # What Dropline asks every shop for (§2.6, SHOPIFY_SCOPES). read_all_orders must also be approved for the app in
    # the Partner Dashboard; without it orders older than 60 days are simply absent.
    scopes: tuple[str, ...]
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    write_timeout: float = 30.0
    pool_timeout: float = 10.0
    max_attempts: int = 5  # per call, for failures that may simply be repeated (429, 5xx, transport)
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 10.0
    # How long one call may wait in total for the shop's cost bucket (before sending and after THROTTLED answers)
    # before it fails retryably.
    throttle_max_wait_seconds: float = 60.0
    # Expiring offline tokens live an hour (§2.4): refresh when less than this is left.
    token_refresh_margin_seconds: int = 300
    # The OAuth callback's timestamp may be this far from our clock (§2.3 step 5, the official library's policy).
    hmac_tolerance_seconds: int = 90

    def shop_url(self, shop: str) -> str:
        """The base URL of one shop ("https://dropline-demo.myshopify.com")."""
        return self.shop_url_template.format(shop=shop).rstrip("/")

    def consent_origin(self) -> str:
        """Where every shop's consent page lives, as a CSP source: "https://*.myshopify.com" for the real hosts (the
        template's host is the shop itself), the sandbox's origin when the shop is a path under it."""
        parts = urlsplit(self.shop_url_template)
        if "{shop}" in parts.netloc:
            return f"{parts.scheme}://*.myshopify.com"
        return f"{parts.scheme}://{parts.netloc}"

    def graphql_url(self, shop: str) -> str:
        return f"{self.shop_url(shop)}/admin/api/{self.api_version}/graphql.json"

    @classmethod
    def from_settings(cls) -> ShopifyConfig:
        from django.conf import settings

        return cls(
            client_id=settings.SHOPIFY_CLIENT_ID,
            client_secret=settings.SHOPIFY_CLIENT_SECRET,
            api_version=settings.SHOPIFY_API_VERSION,
            shop_url_template=settings.SHOPIFY_SHOP_URL,
            redirect_uri=f"{settings.DROPLINE_PUBLIC_URL}/stores/shopify/callback/",
            scopes=tuple(settings.SHOPIFY_SCOPES),
        )
