"""Connecting a shop (notes §2): the shop a seller types, the consent URL, the signed callback, the token exchange
and the rotating refresh, against the sandbox over HTTP."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.errors import ErrorKind, PlatformAuthError, PlatformError
from integrations.interface import TokenSet
from integrations.shopify.adapter import ShopifyAdapter
from integrations.shopify.oauth import callback_hmac, normalise_shop
from tests.integrations.shopify.conftest import SHOP, UK_SHOP, Sandbox, expired, notes_hmac

SCOPES = (
    "read_orders,write_orders,read_all_orders,read_merchant_managed_fulfillment_orders,"
    "write_merchant_managed_fulfillment_orders,read_inventory,write_inventory,read_locations,read_products"
)


@pytest.mark.parametrize(
    "typed",
    [
        "dropline-demo",
        "dropline-demo.myshopify.com",
        "https://dropline-demo.myshopify.com/",
        "admin.shopify.com/store/dropline-demo",
        "  HTTPS://Dropline-Demo.myshopify.com/admin/orders ",
        "https://admin.shopify.com/store/dropline-demo/orders",
    ],
)
def test_what_a_seller_types_names_the_shop(typed: str) -> None:
    assert normalise_shop(typed) == SHOP


@pytest.mark.parametrize(
    "typed", ["", "my shop", "dropline-demo.com", "https://admin.shopify.com/", "-bad.myshopify.com"]
)
def test_anything_else_is_refused_with_a_fix(typed: str) -> None:
    with pytest.raises(PlatformError) as refused:
        normalise_shop(typed)
    assert refused.value.kind == ErrorKind.INVALID
    assert "your-store.myshopify.com" in refused.value.fix


def test_consent_url_asks_for_an_offline_token_with_every_scope(settings: Any) -> None:
    settings.SHOPIFY_SHOP_URL = "https://{shop}"
    url = ShopifyAdapter().authorization_url("st ate~1", shop="admin.shopify.com/store/dropline-demo")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://dropline-demo.myshopify.com/admin/oauth/authorize"
    # URLSearchParams encoding with %20 for spaces (§2.2), in the library's order, grant_options[] empty (offline).
    assert parts.query == (
        f"client_id={settings.SHOPIFY_CLIENT_ID}&scope={SCOPES.replace(',', '%2C')}"
        f"&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fstores%2Fshopify%2Fcallback%2F"
        "&state=st%20ate%7E1&grant_options%5B%5D="
    )


def test_the_notes_callback_vector() -> None:
    """§2.3's vector, through the adapter's own message building."""
    query = {
        "code": "0907a61c0c8d55e99db179b68161bc00",
        "hmac": "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf",
        "shop": "some-shop.myshopify.com",
        "state": "0.6784241404160823",
        "timestamp": "1337178173",
    }
    assert callback_hmac("hush", query) == query["hmac"]
    assert notes_hmac("hush", query) == query["hmac"]


def test_authorize_verifies_exchanges_and_reads_the_shop(sandbox: Sandbox, adapter: ShopifyAdapter) -> None:
    callback = sandbox.consent(adapter)
    assert notes_hmac(sandbox.sb.config.client_secret, callback) == callback["hmac"]
    sandbox.recorder.clear()

    authorized = adapter.authorize(callback["code"], callback=callback, shop="dropline-demo")

    token_request, shop_request = sandbox.recorder.requests
    assert token_request.url == f"{sandbox.base_url}/{SHOP}/admin/oauth/access_token"
    assert json.loads(token_request.content) == {
        "client_id": adapter.config().client_id,
        "client_secret": adapter.config().client_secret,
        "code": callback["code"],
        "expiring": "1",
    }
    assert shop_request.url == f"{sandbox.base_url}/{SHOP}/admin/api/2026-10/graphql.json"
    tokens = authorized.tokens
    assert shop_request.headers["x-shopify-access-token"] == tokens.access_token
    assert json.loads(shop_request.content)["operationName"] == "DroplineShop"
    assert tokens.open_id == SHOP
    assert tokens.seller_name == "Dropline Demo Store"
    assert tokens.seller_base_region == "US"
    assert tokens.refresh_token
    assert 3500 < (tokens.access_token_expires_at.timestamp() - time.time()) <= 3600
    assert set(tokens.granted_scopes) == set(SCOPES.split(","))
    (shop,) = authorized.shops
    assert (shop.shop_id, shop.name, shop.region, shop.seller_type, shop.code) == (
        SHOP,
        "Dropline Demo Store",
        "US",
        "LOCAL",
        "dropline-demo",
    )
    assert set(shop.settings["scopes"].split(",")) == set(SCOPES.split(","))


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (lambda q: {**q, "state": q["state"] + "x"}, "bad_hmac"),
        (lambda q: {**q, "hmac": q["hmac"][::-1]}, "bad_hmac"),
        (lambda q: {k: v for k, v in q.items() if k != "hmac"}, "bad_hmac"),
        (lambda q: {**q, "timestamp": str(int(q["timestamp"]) - 600)}, "bad_hmac"),
    ],
)
def test_a_tampered_callback_is_refused(sandbox: Sandbox, adapter: ShopifyAdapter, tamper: Any, code: str) -> None:
    callback = tamper(sandbox.consent(adapter))
    sandbox.recorder.clear()
    with pytest.raises(PlatformError) as refused:
        adapter.authorize(callback["code"], callback=callback, shop=SHOP)
    assert (refused.value.code, refused.value.kind) == (code, ErrorKind.INVALID)
    assert refused.value.fix
    assert sandbox.recorder.requests == []  # the code was never spent


def test_a_callback_too_old_is_refused(sandbox: Sandbox, adapter: ShopifyAdapter) -> None:
    callback = sandbox.consent(adapter)
    stale = {**callback, "timestamp": str(int(callback["timestamp"]) - 91)}
    stale["hmac"] = notes_hmac(sandbox.sb.config.client_secret, stale)
    with pytest.raises(PlatformError) as refused:
        adapter.authorize(stale["code"], callback=stale, shop=SHOP)
    assert refused.value.code == "stale_callback"


def test_a_callback_for_another_shop_is_refused(sandbox: Sandbox, adapter: ShopifyAdapter) -> None:
    callback = sandbox.consent(adapter, shop=UK_SHOP)  # signed, valid, but not the shop this connection is for
    with pytest.raises(PlatformError) as refused:
        adapter.authorize(callback["code"], callback=callback, shop=SHOP)
    assert (refused.value.code, refused.value.kind) == ("other_shop", ErrorKind.INVALID)


def test_a_used_code_is_refused_as_invalid(sandbox: Sandbox, adapter: ShopifyAdapter) -> None:
    callback = sandbox.consent(adapter)
    adapter.authorize(callback["code"], callback=callback, shop=SHOP)
    with pytest.raises(PlatformError) as refused:
        adapter.authorize(callback["code"], callback=callback, shop=SHOP)
    assert refused.value.kind == ErrorKind.INVALID
    assert refused.value.http_status == 400
    assert "start again" in refused.value.fix


def test_refresh_rotates_and_the_new_refresh_token_is_the_one_that_works(
    sandbox: Sandbox, adapter: ShopifyAdapter, tokens: TokenSet
) -> None:
    fresh = adapter.refresh(tokens)

    (request,) = sandbox.recorder.requests
    assert json.loads(request.content) == {
        "client_id": adapter.config().client_id,
        "client_secret": adapter.config().client_secret,
        "refresh_token": tokens.refresh_token,
        "grant_type": "refresh_token",
    }
    assert fresh.refresh_token != tokens.refresh_token
    assert fresh.access_token != tokens.access_token
    assert (fresh.open_id, fresh.seller_name, fresh.seller_base_region) == (SHOP, "Dropline Demo Store", "US")
    sandbox.client(fresh).shop_info()  # using the new access token spends the old refresh token
    with pytest.raises(PlatformAuthError) as refused:
        adapter.refresh(tokens)
    assert refused.value.kind == ErrorKind.AUTH_EXPIRED
    assert adapter.refresh(fresh).refresh_token  # the rotated one still works


def test_the_client_refreshes_an_expiring_token_and_saves_it_at_once(sandbox: Sandbox, tokens: TokenSet) -> None:
    saved: list[TokenSet] = []
    client = sandbox.client(expired(tokens), on_tokens_refreshed=saved.append)

    assert client.shop_info().domain == SHOP

    refresh, query = sandbox.recorder.requests
    assert refresh.url.path.endswith("/admin/oauth/access_token")
    assert json.loads(refresh.content)["grant_type"] == "refresh_token"
    (new,) = saved
    assert query.headers["x-shopify-access-token"] == new.access_token
    assert new.refresh_token != tokens.refresh_token
    assert client.tokens == new


def test_a_revoked_token_is_an_auth_error_the_seller_fixes_by_reconnecting(sandbox: Sandbox, tokens: TokenSet) -> None:
    sandbox.control("POST", "/sandbox/apps/uninstall", json={"shop": SHOP})
    channel = sandbox.channel(tokens)
    with pytest.raises(PlatformAuthError) as refused:
        channel.list_locations()
    assert refused.value.kind == ErrorKind.AUTH_EXPIRED
    assert "reconnect" in refused.value.fix.lower()
    # One replay after a refresh attempt, which Shopify refuses too: 401, then the refused refresh.
    statuses = [(r.url.path.rsplit("/", 1)[-1], answer.status_code) for r, answer in sandbox.recorder.exchanges]
    assert statuses == [("graphql.json", 401), ("access_token", 400)]


def test_a_bad_token_without_refresh_is_401(sandbox: Sandbox, tokens: TokenSet) -> None:
    channel = sandbox.channel(replace(tokens, access_token="shpat_wrong", refresh_token=""))
    with pytest.raises(PlatformAuthError) as refused:
        channel.list_locations()
    assert (refused.value.code, refused.value.http_status) == ("http_401", 401)
    assert len(sandbox.recorder.requests) == 1  # never retried


def test_query_strings_the_sandbox_signs_decode_like_ours(sandbox: Sandbox, adapter: ShopifyAdapter) -> None:
    """A state with characters URLSearchParams escapes survives the round trip and still verifies."""
    answer = sandbox.control_http.get(adapter.authorization_url("a b+c~d/é", shop=SHOP))
    callback = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    assert callback["state"] == "a b+c~d/é"
    assert adapter.authorize(callback["code"], callback=callback, shop=SHOP).tokens.open_id == SHOP
