"""Fixtures for the Shopify sandbox tests: a real server on a socket and a tiny client.

The HMAC check below is written from the contract notes (§2.3) on purpose, not borrowed from the sandbox,
so a shared mistake cannot pass unnoticed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
import pytest

from sandboxes.shopify.app import ShopifySandbox
from sandboxes.shopify.config import ShopifyConfig
from sandboxes.shopify.server import start_in_thread

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
REDIRECT = "http://127.0.0.1:8000/stores/shopify/callback/"
SHOP = "dropline-demo.myshopify.com"
VERSION = "2026-10"
ALL_SCOPES = "read_orders,read_locations,read_inventory,write_inventory"


def notes_hmac(secret: str, query: dict[str, str]) -> str:
    """§2.3: drop hmac/signature, sort, URL-encode k=v with %20 for spaces, hex HMAC-SHA256."""
    kept = sorted((k, v) for k, v in query.items() if k not in ("hmac", "signature"))
    message = urlencode(kept, quote_via=quote)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class Shopify:
    def __init__(self, client: httpx.Client, sb: ShopifySandbox) -> None:
        self.client = client
        self.sb = sb
        self.token: str | None = None

    def authorize(self, scope: str = ALL_SCOPES, state: str = "nonce-123", shop: str = SHOP) -> httpx.Response:
        return self.client.get(
            f"/{shop}/admin/oauth/authorize",
            params={
                "client_id": CLIENT_ID,
                "scope": scope,
                "redirect_uri": REDIRECT,
                "state": state,
                "grant_options[]": "",
            },
        )

    def callback_query(self, scope: str = ALL_SCOPES) -> dict[str, str]:
        r = self.authorize(scope)
        assert r.status_code == 302, r.text
        return dict(parse_qsl(urlsplit(r.headers["location"]).query, keep_blank_values=True))

    def exchange(self, code: str, **extra: str) -> httpx.Response:
        body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code, "expiring": "1"}
        body.update(extra)
        return self.client.post(f"/{SHOP}/admin/oauth/access_token", json=body)

    def install(self, scope: str = ALL_SCOPES) -> dict[str, Any]:
        q = self.callback_query(scope)
        r = self.exchange(q["code"])
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        self.token = data["access_token"]
        return data

    def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        version: str = VERSION,
        token: str | None = "<default>",  # noqa: S107 - a sentinel, not a password
    ) -> httpx.Response:
        headers = {}
        tok = self.token if token == "<default>" else token
        if tok:
            headers["X-Shopify-Access-Token"] = tok
        return self.client.post(
            f"/{SHOP}/admin/api/{version}/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.gql(query, variables)
        assert r.status_code == 200, r.text
        body = r.json()
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]
        return result


@pytest.fixture
def sb() -> ShopifySandbox:
    return ShopifySandbox(
        ShopifyConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[REDIRECT], seed=7)
    )


@pytest.fixture
def shopify(sb: ShopifySandbox) -> Iterator[Shopify]:
    server, base = start_in_thread(sb, port=0)
    try:
        with httpx.Client(base_url=base, timeout=10) as c:
            yield Shopify(c, sb)
    finally:
        server.shutdown()


@pytest.fixture
def api(shopify: Shopify) -> Shopify:
    shopify.install()
    return shopify
