"""The client against the TikTok sandbox (an independent reading of the same contract), in-process and over HTTP."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from integrations.errors import PlatformAuthError, PlatformError, PlatformOutcomeUnknown
from integrations.interface import InventoryUpdate, ShipPackageRequest, WarehouseQuantity
from integrations.tiktok.oauth import TikTokAuth
from tests.integrations.tiktok.conftest import SandboxSession

CREATE_PACKAGES = "POST /fulfillment/202309/packages"


def _buyable_order(client, session: SandboxSession) -> str:
    """An AWAITING_SHIPMENT TikTok-shipping order with a deliverable address (the seed has deliberate bad ones)."""
    created = session.control(
        "POST",
        f"/sandbox/shops/{session.shops[0]['id']}/orders",
        json={
            "count": 5,
            "seed": 11,
            "status_mix": {"AWAITING_SHIPMENT": 1},
            "shipping_mix": {"TIKTOK": 1},
            "return_ids": True,
        },
    )
    for order_id in created["order_ids"]:
        try:
            client.get_eligible_shipping_services(order_id)
        except PlatformError:
            continue
        return order_id
    raise AssertionError("no buyable order seeded")


def _labels(session: SandboxSession, order_id: str) -> list[dict]:
    return session.control("GET", "/sandbox/labels", params={"order_id": order_id})["labels"]


@pytest.mark.chaos
def test_full_label_flow_over_real_http(live_sandbox: SandboxSession) -> None:
    session = live_sandbox
    # Authorize programmatically, exchange the code on the auth host, discover shops (no shop_cipher).
    tokens = session.authorize()
    assert tokens.access_token.startswith("TTP_")
    seller = session.client(tokens=tokens)
    shops = seller.get_authorized_shops()
    home = next(s for s in shops if s.shop_id == session.shops[0]["id"])
    client = seller.for_shop(home.settings["cipher"])

    # Thousands of orders: page through them by update_time, no gap and no duplicate.
    since = datetime.now(tz=UTC) - timedelta(days=400)
    session.control(
        "POST",
        f"/sandbox/shops/{home.shop_id}/orders",
        json={"count": 3000, "seed": 7, "status_mix": {"AWAITING_SHIPMENT": 1}, "shipping_mix": {"TIKTOK": 1}},
    )
    first = client.search_orders(update_time_ge=since, page_size=100)
    seen = [o.order_id for o in client.iter_orders(update_time_ge=since, page_size=100)]
    assert first.total_count is not None
    assert first.total_count >= 3000
    assert len(seen) == first.total_count
    assert len(set(seen)) == len(seen)

    # Order detail in batches of 50 returns every order asked for.
    details = client.get_orders(seen[:137])
    assert [o.order_id for o in details] == seen[:137]
    assert all(o.lines for o in details)

    # Eligible services -> buy -> document -> download a real PDF naming the tracking number.
    order_id = _buyable_order(client, session)
    options = client.get_eligible_shipping_services(order_id)
    chosen = next(s for s in options.services if s.is_default)
    label = client.create_package(order_id, shipping_service_id=chosen.service_id)
    assert label.order_id == order_id
    assert label.package_id
    document = client.get_shipping_document(label.package_id)
    pdf = client.download_document(document.url)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert document.tracking_number
    assert document.tracking_number in text
    (ledger,) = _labels(session, order_id)
    assert ledger["package_id"] == label.package_id

    # The platform now reports the package with that tracking number.
    package = client.get_package(label.package_id)
    assert package.tracking_number == document.tracking_number
    assert order_id in package.order_ids
    assert client.get_tracking(order_id)


@pytest.mark.chaos
def test_purchase_dropped_after_commit_raises_outcome_unknown_and_buys_once(live_sandbox: SandboxSession) -> None:
    session = live_sandbox
    client = session.client()
    order_id = _buyable_order(client, session)
    session.control(
        "POST", "/sandbox/faults", json={"drop_response_after_commit": [{"api": CREATE_PACKAGES, "next": 1}]}
    )

    with pytest.raises(PlatformOutcomeUnknown):
        client.create_package(order_id)

    assert len(_labels(session, order_id)) == 1  # bought exactly once, not retried
    # What the labels service does next: ask the platform, find the package, adopt it.
    (order,) = client.get_orders([order_id])
    assert order.package_ids == (_labels(session, order_id)[0]["package_id"],)
    with pytest.raises(PlatformError) as again:  # and a blind second buy is refused by the platform
        client.create_package(order_id)
    assert again.value.code == 21022025


@pytest.mark.chaos
def test_purchase_timeout_raises_outcome_unknown(live_sandbox: SandboxSession) -> None:
    from dataclasses import replace

    import httpx

    session = live_sandbox
    short = httpx.Client(timeout=httpx.Timeout(5.0, read=0.3))
    client = session.client(http=short, config=replace(session.config, read_timeout=0.3))
    order_id = _buyable_order(client, session)
    session.control("POST", "/sandbox/faults", json={"timeouts": [{"api": CREATE_PACKAGES, "hold_ms": 800, "next": 1}]})

    with pytest.raises(PlatformOutcomeUnknown):
        client.create_package(order_id)

    time.sleep(1.0)  # the sandbox finishes the held request: the label was bought although we saw a timeout
    assert len(_labels(session, order_id)) == 1


@pytest.mark.chaos
def test_429_storm_and_503s_are_retried_and_succeed(sandbox: SandboxSession) -> None:
    slept: list[float] = []
    client = sandbox.client(sleep=slept.append)
    sandbox.control(
        "PUT",
        "/sandbox/faults",
        json={
            "errors": [
                {"api": "POST /order/202309/orders/search", "code": 36009002, "http_status": 429, "next": 3},
                {"api": "GET /logistics/202309/warehouses", "code": 36009003, "http_status": 503, "next": 2},
                {"api": CREATE_PACKAGES, "code": 36009002, "http_status": 429, "next": 2},
            ]
        },
    )

    page = client.search_orders(page_size=10)
    warehouses = client.get_warehouses()
    order_id = _buyable_order(client, sandbox)
    label = client.create_package(order_id)  # 429 = not processed: a purchase may be retried

    assert page.listed
    assert warehouses
    assert len(slept) == 7
    assert slept[:3] == [1.0, 1.0, 1.0]  # each 429 pauses the API for one platform window, for every worker
    assert slept[4] > slept[3]  # the 503s back off exponentially
    assert [entry["package_id"] for entry in _labels(sandbox, order_id)] == [label.package_id]
    stats = sandbox.control("GET", "/sandbox/stats")
    assert "injected_429" in str(stats)


@pytest.mark.chaos
def test_expired_token_is_refreshed_once_replayed_and_persisted(sandbox: SandboxSession) -> None:
    saved = []
    tokens = sandbox.authorize()
    client = sandbox.client(tokens=tokens, on_tokens_refreshed=saved.append)
    sandbox.control("POST", "/sandbox/tokens/expire", json={"access_token": tokens.access_token})

    warehouses = client.get_warehouses()

    assert warehouses
    assert len(saved) == 1
    assert saved[0].access_token != tokens.access_token
    assert client.tokens == saved[0]


@pytest.mark.chaos
def test_a_second_105002_after_refresh_surfaces_as_an_auth_error(sandbox: SandboxSession) -> None:
    saved = []
    client = sandbox.client(on_tokens_refreshed=saved.append)
    sandbox.control(
        "PUT",
        "/sandbox/faults",
        json={"errors": [{"api": "GET /logistics/202309/warehouses", "code": 105002, "http_status": 200, "next": 5}]},
    )

    with pytest.raises(PlatformAuthError) as caught:
        client.get_warehouses()

    assert caught.value.code == 105002
    assert len(saved) == 1  # refreshed once, replayed once, then gave up


def test_expired_refresh_token_is_an_auth_error(sandbox: SandboxSession) -> None:
    tokens = sandbox.authorize()
    client = sandbox.client(tokens=tokens)
    sandbox.control(
        "POST", "/sandbox/tokens/expire", json={"access_token": tokens.access_token, "refresh_token_too": True}
    )

    with pytest.raises(PlatformAuthError):
        client.get_warehouses()


def test_used_auth_code_is_refused(sandbox: SandboxSession) -> None:
    code = sandbox.control("POST", "/sandbox/authorize", json={"seller_id": sandbox.seller_id})["code"]
    auth = TikTokAuth(sandbox.config, sandbox.http)
    auth.exchange_code(code)

    with pytest.raises(PlatformAuthError):
        auth.exchange_code(code)


def test_non_us_ship_package_and_seller_shipping(sandbox: SandboxSession) -> None:
    world = sandbox.control("GET", "/sandbox")
    uk_seller = next(s for s in world["sellers"] if s["base_region"] == "GB")
    code = sandbox.control("POST", "/sandbox/authorize", json={"seller_id": uk_seller["id"]})["code"]
    uk = sandbox.client(
        tokens=TikTokAuth(sandbox.config, sandbox.http).exchange_code(code), shop_cipher=uk_seller["shops"][0]["cipher"]
    )
    orders = [o for o in uk.iter_orders(order_status="AWAITING_SHIPMENT", page_size=50) if o.label_source == "platform"]
    order = next(o for o in orders if o.package_ids and not o.is_buyer_request_cancel)
    package_id = order.package_ids[0]

    slots = uk.get_handover_time_slots(package_id)
    slot = uk.first_available_slot(slots)
    uk.ship_package(ShipPackageRequest(package_id=package_id, handover_method="PICKUP", pickup_slot=slot))
    document = uk.get_shipping_document(package_id)
    assert document.url
    assert uk.get_package(package_id).status

    # Legacy seller shipping (US): recognised on the order, and reported with Mark Package As Shipped.
    us = sandbox.client()
    seller_orders = list(us.iter_orders(order_status="AWAITING_SHIPMENT", shipping_type="SELLER", page_size=50))
    seller_order = next(o for o in seller_orders if not o.is_buyer_request_cancel)
    assert seller_order.is_seller_shipping
    option = next(o for o in us.get_warehouse_delivery_options(seller_order.warehouse_id) if o.is_seller_shipping)
    usps = next(p for p in us.get_shipping_providers(option.option_id) if p.name == "USPS")
    shipment = us.mark_package_as_shipped(
        seller_order.order_id, tracking_number="9400111899223817394025", carrier_id=usps.provider_id
    )
    assert shipment.package_id
    us.update_shipping_info(
        seller_order.order_id, tracking_number="9400111899223817394032", carrier_id=usps.provider_id
    )


def test_batch_ship_reports_per_package_results(sandbox: SandboxSession) -> None:
    world = sandbox.control("GET", "/sandbox")
    uk_seller = next(s for s in world["sellers"] if s["base_region"] == "GB")
    code = sandbox.control("POST", "/sandbox/authorize", json={"seller_id": uk_seller["id"]})["code"]
    uk = sandbox.client(
        tokens=TikTokAuth(sandbox.config, sandbox.http).exchange_code(code), shop_cipher=uk_seller["shops"][0]["cipher"]
    )
    order = next(
        o
        for o in uk.iter_orders(order_status="AWAITING_SHIPMENT", shipping_type="TIKTOK", page_size=50)
        if o.package_ids and not o.is_buyer_request_cancel
    )

    results = uk.batch_ship_packages(
        [
            ShipPackageRequest(order.package_ids[0], handover_method="DROP_OFF"),
            ShipPackageRequest("1152321999999999999"),
        ]
    )

    assert [r.ok for r in results] == [True, False]
    assert results[1].code


def test_inventory_products_and_webhook_registration(sandbox: SandboxSession) -> None:
    client = sandbox.client()
    products = client.search_products(status="ACTIVATE", page_size=100).items
    product = next(p for p in products if p.skus and all(len(s.quantities) == 1 for s in p.skus))
    sku = product.skus[0]

    results = client.update_inventory(
        product.product_id,
        [
            InventoryUpdate(sku.sku_id, (WarehouseQuantity(sku.quantities[0].warehouse_id, 7),)),
            InventoryUpdate("1", ()),
        ],
    )
    (level,) = [lv for lv in client.search_inventory(sku_ids=[sku.sku_id]) if lv.sku_id == sku.sku_id]

    assert results[0].ok
    assert not results[1].ok
    assert level.by_warehouse[0].available == 7

    client.set_webhook("ORDER_STATUS_CHANGE", "https://hooks.dropline.example/tiktok")
    assert [(w.topic, w.address) for w in client.get_webhooks()] == [
        ("ORDER_STATUS_CHANGE", "https://hooks.dropline.example/tiktok")
    ]
    client.delete_webhook("ORDER_STATUS_CHANGE")
    assert client.get_webhooks() == []
