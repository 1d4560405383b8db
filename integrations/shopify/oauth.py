"""Connecting a shop (contract notes §2): the shop address a seller types, the consent URL, the signed callback, and
the token endpoint (code grant and refresh, with rotating refresh tokens).

The token requests carry the client secret in their JSON body: their bodies are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from integrations.errors import ErrorKind, PlatformAuthError, PlatformError
from integrations.interface import TokenSet
from integrations.responses import response_json
from integrations.shopify import translate
from integrations.shopify.config import ShopifyConfig

log = logging.getLogger(__name__)

PLATFORM = "shopify"
TOKEN_PATH = "/admin/oauth/access_token"  # noqa: S105 - a URL path, not a secret
AUTHORIZE_PATH = "/admin/oauth/authorize"

# §2.2, the official library's shop validator; the domain is lower-cased first (hosts are case-insensitive).
_SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(myshopify\.com|shopify\.com|myshopify\.io|shop\.dev)/*$")
_ADMIN_URL = re.compile(r"^admin\.shopify\.com/store/([a-z0-9][a-z0-9_-]*)(?:[/?#]|$)")
_HANDLE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SHOP_FIX = (
    "Enter your store's Shopify address, e.g. your-store.myshopify.com (Shopify admin → Settings → Domains shows "
    "it), or the address of your Shopify admin, admin.shopify.com/store/your-store."
)


def normalise_shop(typed: str) -> str:
    """The shop's myshopify domain from what a seller typed: "dropline-demo", "dropline-demo.myshopify.com",
    "https://dropline-demo.myshopify.com/", "admin.shopify.com/store/dropline-demo". PlatformError kind INVALID with a
    fix for anything else (a custom domain names no shop Shopify can authorize)."""
    text = re.sub(r"^https?://", "", typed.strip().lower())
    admin = _ADMIN_URL.match(text)
    if admin:
        host = f"{admin.group(1)}.myshopify.com"
    else:
        host = re.split(r"[/?#]", text, maxsplit=1)[0]
        if _HANDLE.fullmatch(host):
            host = f"{host}.myshopify.com"
    if not _SHOP_DOMAIN.fullmatch(host) or host.startswith("admin."):
        raise PlatformError(
            PLATFORM,
            "bad_shop",
            f"{typed.strip()[:100]!r} is not a Shopify store address",
            kind=ErrorKind.INVALID,
            fix=SHOP_FIX,
        )
    return host


def _encode(value: str) -> str:
    """URLSearchParams encoding with "+" written "%20" (§2.2, §2.3): only letters, digits and *-._ stay literal."""
    return quote(value, safe="*").replace("~", "%7E")


def _query(params: Mapping[str, str]) -> str:
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in params.items())


def callback_hmac(secret: str, callback: Mapping[str, str]) -> str:
    """§2.3: hex HMAC-SHA256 of every parameter but hmac/signature, sorted by key, encoded as k=v joined by &."""
    kept = {key: callback[key] for key in sorted(callback) if key not in ("hmac", "signature")}
    return hmac.new(secret.encode(), _query(kept).encode(), hashlib.sha256).hexdigest()


def verify_callback(config: ShopifyConfig, callback: Mapping[str, str], *, shop: str, code: str, now: float) -> None:
    """The seller came back from Shopify's consent page for the shop the connection was started for: a valid hmac
    (constant time), a fresh timestamp, the same shop and code. PlatformError kind INVALID otherwise."""
    given = callback.get("hmac", "")
    expected = callback_hmac(config.client_secret, callback)
    if not given or not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        raise _callback_refused("bad_hmac", "the callback's hmac does not match")
    try:
        stamp = int(callback.get("timestamp", ""))
    except ValueError:
        raise _callback_refused("bad_timestamp", "the callback has no timestamp") from None
    if abs(now - stamp) > config.hmac_tolerance_seconds:
        raise _callback_refused("stale_callback", f"the callback is {int(now - stamp)} s old")
    if callback.get("shop", "").lower() != shop:
        raise _callback_refused("other_shop", f"the callback is for {callback.get('shop', '')!r}, not {shop!r}")
    if callback.get("code", code) != code:
        raise _callback_refused("other_code", "the callback names another code")


def _callback_refused(code: str, message: str) -> PlatformError:
    return PlatformError(
        PLATFORM,
        code,
        message,
        kind=ErrorKind.INVALID,
        fix="Shopify's answer could not be verified: start the connection again from Stores, for the same store.",
    )


class ShopifyAuth:
    def __init__(
        self,
        config: ShopifyConfig,
        http: httpx.Client,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._http = http
        self._sleep = sleep
        self._clock = clock

    def authorization_url(self, shop: str, state: str) -> str:
        """The shop's consent page (§2.2) for an expiring offline token: `grant_options[]` empty."""
        params = {
            "client_id": self.config.client_id,
            "scope": ",".join(self.config.scopes),
            "redirect_uri": self.config.redirect_uri,
            "state": state,
            "grant_options[]": "",
        }
        return f"{self.config.shop_url(shop)}{AUTHORIZE_PATH}?{_query(params)}"

    def exchange_code(self, shop: str, code: str) -> TokenSet:
        """Trade a consent code for an expiring offline token (§2.4, expiring "1"). Not retried after the request
        left: the code is single use, so the seller simply connects again."""
        body = {
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "code": code,
            "expiring": "1",
        }
        return self._token_call(shop, body, refreshing=False)

    def refresh(self, tokens: TokenSet) -> TokenSet:
        """A fresh access token and a NEW refresh token (rotation): the caller persists the result at once. Retried
        after a lost answer: the refresh token just used stays valid until the new access token is used (§2.4,
        changelog 2026-08-28), so asking again is harmless."""
        if not tokens.refresh_token:
            raise PlatformAuthError(
                PLATFORM,
                "no_refresh_token",
                "the shop's token cannot be refreshed",
                fix="Reconnect the Shopify store under Stores.",
            )
        body = {
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "refresh_token": tokens.refresh_token,
            "grant_type": "refresh_token",
        }
        fresh = self._token_call(tokens.open_id, body, refreshing=True)
        return translate.carry_over(fresh, tokens)

    def _token_call(self, shop: str, body: Mapping[str, str], *, refreshing: bool) -> TokenSet:
        url = self.config.shop_url(shop) + TOKEN_PATH
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                response = self._http.post(url, json=dict(body), headers={"Accept": "application/json"})
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                failure = PlatformError(PLATFORM, "transport", type(exc).__name__, retryable=True)
            except httpx.TransportError as exc:
                failure = PlatformError(PLATFORM, "transport", type(exc).__name__, retryable=refreshing)
            else:
                answer = self._interpret(response, shop, refreshing=refreshing)
                if isinstance(answer, TokenSet):
                    return answer
                failure = answer
            if not failure.retryable or attempt == attempts:
                raise failure
            self._sleep(min(self.config.backoff_base_seconds * 2 ** (attempt - 1), self.config.backoff_max_seconds))
        raise AssertionError("unreachable")

    def _interpret(self, response: httpx.Response, shop: str, *, refreshing: bool) -> TokenSet | PlatformError:
        status = response.status_code
        request_id = response.headers.get("x-request-id")
        try:
            payload: Any = response_json(response)
        except ValueError:
            payload = None
        if status == 200 and isinstance(payload, dict) and payload.get("access_token"):
            return translate.token_set_from_json(payload, shop=shop, now=self._clock())
        if status == 429 or status >= 500:
            return PlatformError(
                PLATFORM,
                f"http_{status}",
                "Shopify's token endpoint is unavailable",
                request_id=request_id,
                http_status=status,
                retryable=True,
            )
        error = str(payload.get("error") or f"http_{status}") if isinstance(payload, dict) else f"http_{status}"
        message = str(payload.get("error_description") or error) if isinstance(payload, dict) else "no JSON answer"
        if error == "invalid_client":
            return PlatformError(
                PLATFORM,
                error,
                message,
                kind=ErrorKind.REFUSED,
                request_id=request_id,
                http_status=status,
                fix="Shopify does not accept Dropline's app credentials (SHOPIFY_CLIENT_ID / SHOPIFY_CLIENT_SECRET): "
                "an administrator must correct them.",
            )
        if refreshing:
            # A refused or expired refresh token, or the app was uninstalled: only a new consent helps.
            return PlatformAuthError(
                PLATFORM,
                error,
                message,
                request_id=request_id,
                http_status=status,
                fix="Shopify no longer accepts Dropline's access to this store: reconnect it under Stores.",
            )
        return PlatformError(
            PLATFORM,
            error,
            message,
            kind=ErrorKind.INVALID,
            request_id=request_id,
            http_status=status,
            fix="Shopify did not accept this connection (the consent expired or was used): start again from Stores.",
        )
