"""OAuth per the notes §2: signed callback, code exchange, expiring tokens and refresh rotation."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

from sandboxes.shopify.oauth import hmac_message, sign_query

from .conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT, SHOP, Shopify, notes_hmac

SHOP_QUERY = "{ shop { id myshopifyDomain } }"


def test_notes_test_vector_holds_for_the_test_and_the_sandbox() -> None:
    query = {
        "code": "0907a61c0c8d55e99db179b68161bc00",
        "hmac": "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf",
        "shop": "some-shop.myshopify.com",
        "state": "0.6784241404160823",
        "timestamp": "1337178173",
    }
    assert notes_hmac("hush", query) == query["hmac"]
    assert sign_query("hush", query) == query["hmac"]
    assert hmac_message(query) == (
        "code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"
    )


def test_spaces_are_encoded_as_percent_20() -> None:
    assert hmac_message({"b": "x y", "a": "1"}) == "a=1&b=x%20y"


def test_callback_redirect_is_signed_as_the_notes_say(shopify: Shopify) -> None:
    r = shopify.authorize(state="st@te 1")
    assert r.status_code == 302
    location = r.headers["location"]
    assert location.startswith(REDIRECT + "?")
    q = shopify.callback_query()
    assert set(q) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert q["shop"] == SHOP
    assert q["state"] == "nonce-123"
    assert abs(int(q["timestamp"]) - time.time()) <= 90
    assert q["hmac"] == notes_hmac(CLIENT_SECRET, q)
    assert q["hmac"] != notes_hmac("another-secret", q)


def test_authorize_refuses_unknown_client_and_unlisted_redirect(shopify: Shopify) -> None:
    r = shopify.client.get(
        f"/{SHOP}/admin/oauth/authorize",
        params={"client_id": "nope", "scope": "read_orders", "redirect_uri": REDIRECT, "state": "s"},
    )
    assert r.status_code == 400
    r = shopify.client.get(
        f"/{SHOP}/admin/oauth/authorize",
        params={"client_id": CLIENT_ID, "scope": "read_orders", "redirect_uri": "https://evil.example/cb"},
    )
    assert r.status_code == 400


def test_code_exchange_gives_an_expiring_offline_token(shopify: Shopify) -> None:
    q = shopify.callback_query("read_orders,read_locations")
    r = shopify.exchange(q["code"])
    assert r.status_code == 200
    body = r.json()
    assert body["scope"] == "read_orders,read_locations"
    assert body["expires_in"] == 3600
    assert body["access_token"]
    assert body["refresh_token"]
    assert body["refresh_token_expires_in"] > 0
    # A code is single use.
    again = shopify.exchange(q["code"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"


def test_non_expiring_token_when_asked(shopify: Shopify) -> None:
    q = shopify.callback_query()
    body = shopify.exchange(q["code"], expiring="0").json()
    assert "expires_in" not in body
    assert "refresh_token" not in body


def test_bad_secret_and_bad_code_are_refused(shopify: Shopify) -> None:
    q = shopify.callback_query()
    r = shopify.exchange(q["code"], client_secret="wrong")
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    r = shopify.exchange("0" * 32)
    assert r.status_code == 400
    # The refused attempt with a bad secret did not burn the code.
    assert shopify.exchange(q["code"]).status_code == 200


def test_access_token_expires_after_an_hour(shopify: Shopify) -> None:
    shopify.install()
    assert shopify.gql(SHOP_QUERY).status_code == 200
    shopify.client.post("/sandbox/clock", json={"advance": 3601})
    assert shopify.gql(SHOP_QUERY).status_code == 401


def test_refresh_rotates_and_the_old_refresh_token_lives_until_the_new_token_is_used(shopify: Shopify) -> None:
    first = shopify.install()
    body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "refresh_token"}
    r = shopify.client.post(f"/{SHOP}/admin/oauth/access_token", json=body | {"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert shopify.gql(SHOP_QUERY, token=first["access_token"]).status_code == 401
    # Not used yet: the previous refresh token still works (changelog 2026-08-28).
    r = shopify.client.post(f"/{SHOP}/admin/oauth/access_token", json=body | {"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    third = r.json()
    assert shopify.gql(SHOP_QUERY, token=third["access_token"]).status_code == 200
    # Once the replacement is in use, the old refresh token is spent.
    r = shopify.client.post(f"/{SHOP}/admin/oauth/access_token", json=body | {"refresh_token": first["refresh_token"]})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


def test_install_request_to_the_app_url_is_signed(shopify: Shopify) -> None:
    r = shopify.client.post("/sandbox/install-link", json={"shop": SHOP, "app_url": "https://erp.example/shopify"})
    assert r.status_code == 200
    url = r.json()["url"]
    assert url.startswith("https://erp.example/shopify?")
    q = dict(parse_qsl(urlsplit(url).query))
    assert set(q) == {"hmac", "host", "shop", "timestamp"}
    assert q["hmac"] == notes_hmac(CLIENT_SECRET, q)
