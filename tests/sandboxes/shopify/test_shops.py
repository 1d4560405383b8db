"""POST /sandbox/shops: a shop of its own, seeded like the default shops (two locations, the same catalogue, orders in
every state), found by its domain like any other shop; GET /sandbox/shops lists them. All over HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from sandboxes.shopify.app import ShopifySandbox
from sandboxes.shopify.config import ShopifyConfig
from sandboxes.shopify.server import start_in_thread

from .conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT, SHOP, VERSION, Shopify, notes_hmac

NEW = "demo-outfitters.myshopify.com"


def create(shopify: Shopify, **body: Any) -> httpx.Response:
    return shopify.client.post("/sandbox/shops", json=body)


def made(shopify: Shopify, **body: Any) -> dict[str, Any]:
    answer = create(shopify, **body)
    assert answer.status_code == 201, answer.text
    shop: dict[str, Any] = answer.json()
    return shop


def test_a_new_shop_is_seeded_like_the_default_shops(shopify: Shopify) -> None:
    default = shopify.control("GET", "shops")["shops"][0]
    shop = made(shopify, name="Demo Outfitters", domain=NEW, orders=30, seed=3)

    assert shop["myshopify_domain"] == NEW
    assert (shop["name"], shop["currency"], shop["timezone"]) == ("Demo Outfitters", "USD", "America/New_York")
    assert shop["installed"] is False
    assert shop["order_count"] == 30
    assert [loc["name"] for loc in shop["locations"]] == ["Main Warehouse", "West Coast DC"]
    assert shop["skus"] == default["skus"]  # the same catalogue: the TikTok seed's seller SKUs
    assert {"WOMEN-RED-M", "TAINLE-SIL", "LED-WHT", "TANDING-FRAME"} <= set(shop["skus"])
    listed = shopify.control("GET", "shops")["shops"]
    assert [s["myshopify_domain"] for s in listed] == [SHOP, "dropline-uk.myshopify.com", NEW]
    assert listed[2] == shop
    assert shopify.control("GET", "state")["shops"] == listed

    orders = shopify.client.get("/sandbox/orders", params={"shop": NEW}).json()["orders"]
    assert len(orders) == 30
    assert {o["shop"] for o in orders} == {NEW}
    assert [o["name"] for o in orders][:2] == ["#1001", "#1002"]
    statuses = {o["display_fulfillment_status"] for o in orders}
    assert {"UNFULFILLED", "PARTIALLY_FULFILLED", "FULFILLED", "ON_HOLD"} <= statuses
    assert any(o["cancelled_at"] for o in orders)
    assert any(o["edited"] for o in orders)
    assert any(len({li["fulfillment_order_id"] for li in o["lines"]}) == 2 for o in orders)  # a split order

    # Stock as at the default shops: the oversize frame only at the first location, open orders' units committed.
    items = shopify.client.get("/sandbox/inventory", params={"shop": NEW}).json()["items"]
    assert len(items) == len(default["skus"])
    frame = next(i for i in items if i["sku"] == "TANDING-FRAME")
    assert [lv["location_name"] for lv in frame["levels"]] == ["Main Warehouse"]
    assert sum(lv["committed"] for i in items for lv in i["levels"]) > 0


def test_a_new_shop_leaves_the_default_shops_alone_and_sends_no_webhooks(shopify: Shopify) -> None:
    before = shopify.client.get("/sandbox/inventory", params={"shop": SHOP}).json()
    before_orders = shopify.client.get("/sandbox/orders", params={"shop": SHOP}).json()
    made(shopify, name="Quiet", domain="quiet.myshopify.com", orders=20)
    assert shopify.client.get("/sandbox/inventory", params={"shop": SHOP}).json() == before
    assert shopify.client.get("/sandbox/orders", params={"shop": SHOP}).json() == before_orders
    log = shopify.control("GET", "webhooks")
    assert (log["count"], log["unrouted_events"]) == (0, 0)  # seeding fires nothing, as at start


def test_the_same_seed_gives_the_same_shop(shopify: Shopify) -> None:
    first = made(shopify, name="Twin", domain="twin-a.myshopify.com", orders=10, seed=9)
    second = made(shopify, name="Twin", domain="twin-b.myshopify.com", orders=10, seed=9)

    def levels(domain: str) -> list[tuple[str, list[int]]]:
        items = shopify.client.get("/sandbox/inventory", params={"shop": domain}).json()["items"]
        return [(i["sku"], [lv["available"] for lv in i["levels"]]) for i in items]

    def lines(domain: str) -> list[list[tuple[str, int]]]:
        orders = shopify.client.get("/sandbox/orders", params={"shop": domain}).json()["orders"]
        return [[(li["sku"], li["quantity"]) for li in o["lines"]] for o in orders]

    assert first["skus"] == second["skus"]
    assert levels("twin-a.myshopify.com") == levels("twin-b.myshopify.com")
    assert lines("twin-a.myshopify.com") == lines("twin-b.myshopify.com")


def test_currency_timezone_and_order_count_are_the_callers(shopify: Shopify) -> None:
    shop = made(
        shopify,
        name="Leeds Outlet",
        domain="Leeds-Outlet.MyShopify.com",
        currency="gbp",
        timezone="Europe/London",
        orders=0,
    )
    assert (shop["myshopify_domain"], shop["currency"], shop["timezone"]) == (
        "leeds-outlet.myshopify.com",
        "GBP",
        "Europe/London",
    )
    assert shop["order_count"] == 0
    assert shopify.client.get("/sandbox/orders", params={"shop": "leeds-outlet.myshopify.com"}).json()["orders"] == []
    # Without `orders`, as many as the default shops got.
    default = made(shopify, name="Default Count", domain="default-count.myshopify.com")
    assert default["order_count"] == shopify.sb.config.orders_per_shop


def test_a_taken_domain_is_409(shopify: Shopify) -> None:
    made(shopify, name="Demo Outfitters", domain=NEW, orders=1)
    for domain in (NEW, "DEMO-OUTFITTERS.myshopify.com", SHOP, "dropline-uk.myshopify.com"):
        answer = create(shopify, name="Again", domain=domain)
        assert answer.status_code == 409, domain
        assert "taken" in answer.json()["error"]
    assert len(shopify.control("GET", "shops")["shops"]) == 3


@pytest.mark.parametrize(
    "body",
    [
        {"name": "No domain"},
        {"name": "Handle only", "domain": "demo-outfitters"},
        {"name": "Custom domain", "domain": "shop.example.com"},
        {"name": "Leading hyphen", "domain": "-demo.myshopify.com"},
        {"name": "Underscore", "domain": "demo_outfitters.myshopify.com"},
        {"name": "Subdomain", "domain": "a.b.myshopify.com"},
        {"name": "Too long", "domain": "a" * 64 + ".myshopify.com"},
        {"name": "Path", "domain": "https://demo.myshopify.com/admin"},
        {"domain": "nameless.myshopify.com"},
        {"name": "  ", "domain": "blank-name.myshopify.com"},
        {"name": "Currency", "domain": "currency.myshopify.com", "currency": "dollars"},
        {"name": "Zone", "domain": "zone.myshopify.com", "timezone": "Mars/Olympus"},
        {"name": "Negative", "domain": "negative.myshopify.com", "orders": -1},
        {"name": "Too many", "domain": "many.myshopify.com", "orders": 100_000},
        {"name": "Not a number", "domain": "nan.myshopify.com", "orders": "lots"},
        {"name": "Bad seed", "domain": "seed.myshopify.com", "seed": "x"},
    ],
)
def test_an_invalid_shop_is_400(shopify: Shopify, body: dict[str, Any]) -> None:
    answer = create(shopify, **body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]
    assert len(shopify.control("GET", "shops")["shops"]) == 2


def test_the_app_installs_on_a_new_shop_like_on_any_other(shopify: Shopify) -> None:
    made(shopify, name="Demo Outfitters", domain=NEW, orders=12, seed=1)
    consent = shopify.authorize(shop=NEW)
    assert consent.status_code == 302, consent.text
    assert consent.headers["location"].startswith(REDIRECT + "?")
    callback = dict(parse_qsl(urlsplit(consent.headers["location"]).query, keep_blank_values=True))
    assert callback["shop"] == NEW
    assert callback["hmac"] == notes_hmac(CLIENT_SECRET, callback)
    token = shopify.client.post(
        f"/{NEW}/admin/oauth/access_token",
        json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": callback["code"], "expiring": "1"},
    )
    assert token.status_code == 200, token.text
    answer = shopify.client.post(
        f"/{NEW}/admin/api/{VERSION}/graphql.json",
        json={
            "query": "{ shop { name myshopifyDomain currencyCode ianaTimezone } "
            "locations(first: 10) { nodes { name } } productVariants(first: 50) { nodes { sku } } "
            "orders(first: 50) { nodes { name } } }"
        },
        headers={"X-Shopify-Access-Token": token.json()["access_token"]},
    )
    data = answer.json()["data"]
    assert data["shop"] == {
        "name": "Demo Outfitters",
        "myshopifyDomain": NEW,
        "currencyCode": "USD",
        "ianaTimezone": "America/New_York",
    }
    assert [n["name"] for n in data["locations"]["nodes"]] == ["Main Warehouse", "West Coast DC"]
    assert len(data["productVariants"]["nodes"]) == 13
    assert len(data["orders"]["nodes"]) == 12
    assert shopify.control("GET", "shops")["shops"][2]["installed"] is True


def test_reset_drops_added_shops_and_a_snapshot_keeps_them(shopify: Shopify, tmp_path: Any) -> None:
    made(shopify, name="Kept", domain="kept.myshopify.com", orders=3)
    path = tmp_path / "world.pkl"
    shopify.control("POST", "snapshot", path=str(path))
    loaded = ShopifySandbox(ShopifyConfig(state_file=str(path)))
    server, base = start_in_thread(loaded, port=0, deliver_webhooks=False)
    try:
        with httpx.Client(base_url=base, timeout=10) as other:
            domains = [s["myshopify_domain"] for s in other.get("/sandbox/shops").json()["shops"]]
    finally:
        server.shutdown()
    assert domains[-1] == "kept.myshopify.com"
    shopify.control("POST", "reset")
    assert [s["myshopify_domain"] for s in shopify.control("GET", "shops")["shops"]] == [
        SHOP,
        "dropline-uk.myshopify.com",
    ]
