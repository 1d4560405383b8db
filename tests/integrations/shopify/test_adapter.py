"""The adapter as the core sees it: registered, its capability set (NotSupported outside it), its per-store record,
and a connection and a notification through the core's own views and services."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from erp.tenancy import organization_scope
from integrations import registry, services
from integrations.base import Capability
from integrations.errors import ErrorKind, NotSupported
from integrations.interface import AuthorizedShop, ReturnDecision
from integrations.models import Platform, ShopifyStoreSettings, Store, WebhookDelivery
from integrations.shopify.adapter import CAPABILITIES, ShopifyAdapter, ShopifySalesChannel
from tests.factories import StoreFactory
from tests.integrations.shopify.conftest import SHOP, Sandbox


def test_registered_next_to_tiktok() -> None:
    adapter = registry.adapter_for(Platform.SHOPIFY)
    assert isinstance(adapter, ShopifyAdapter)
    assert (adapter.platform, adapter.name, adapter.fulfilment_program, adapter.connect_asks_for_shop) == (
        "shopify",
        "Shopify",
        None,
        True,
    )
    assert registry.platform_name("shopify") == "Shopify"


def test_the_capability_set() -> None:
    assert (
        frozenset(
            {
                Capability.ORDERS,
                Capability.STOCK_PUSH,
                Capability.SHIPMENT_REPORT,
                Capability.NOTIFICATIONS,
                Capability.LOCATIONS,
                Capability.CATALOG,
            }
        )
        == CAPABILITIES
        == ShopifyAdapter.capabilities
        == ShopifySalesChannel.capabilities
    )


OUTSIDE = [
    ("get_tracking", ("1",), {}),
    ("list_fulfilment_centres", (), {}),
    ("read_fulfilment_stock", (), {"centre_ids": ["1"]}),
    ("list_combinable", (), {}),
    ("combine_packages", ([],), {}),
    ("uncombine_package", ("1",), {"order_ids": ["1"]}),
    ("split_attributes", (["1"],), {}),
    ("split_order", ("1", []), {}),
    ("cancellations", (), {}),
    ("cancellation_decide", ("1",), {"approve": True, "key": "k"}),
    ("reject_reasons", ("1",), {}),
    ("seller_cancel_reasons", ("AWAITING_SHIPMENT",), {}),
    ("order_cancel", ("1",), {"reason_code": "x"}),
    ("refund_estimate", ("1",), {"reason_code": "x"}),
    ("returns", (), {}),
    ("return_decide", ("1", ReturnDecision.APPROVE_REFUND), {"key": "k"}),
    ("return_history", ("1",), {}),
]


@pytest.mark.parametrize(("method", "args", "kwargs"), OUTSIDE, ids=[m for m, _, _ in OUTSIDE])
def test_everything_else_is_not_supported(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    channel = ShopifySalesChannel(client=None)  # type: ignore[arg-type]  # never reached
    with pytest.raises(NotSupported) as refused:  # at the call: none of them is a lazy generator
        getattr(channel, method)(*args, **kwargs)
    assert refused.value.kind == ErrorKind.NOT_SUPPORTED


@pytest.mark.django_db
def test_no_labels(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        store = StoreFactory(organization=tenant.organization, platform=Platform.SHOPIFY, external_id=SHOP)
    with pytest.raises(NotSupported):
        ShopifyAdapter().label_provider(store, tokens=None, save_tokens=lambda tokens: None)


@pytest.mark.django_db
def test_store_connected_keeps_the_scopes_and_the_sellers_choice(tenant: Any, settings: Any) -> None:
    adapter = ShopifyAdapter()
    shop = AuthorizedShop(SHOP, "Dropline Demo Store", "US", "LOCAL", "dropline-demo", {"scopes": "read_orders"})
    with organization_scope(tenant.organization):
        store = StoreFactory(organization=tenant.organization, platform=Platform.SHOPIFY, external_id=SHOP)
        adapter.store_connected(store, shop)
        ShopifyStoreSettings.objects.filter(store=store).update(notify_customer=False)
        adapter.store_connected(store, AuthorizedShop(**{**shop.__dict__, "settings": {"scopes": "read_orders,x"}}))
        record = ShopifyStoreSettings.objects.get(store=store)
        assert (record.granted_scopes, record.notify_customer) == ("read_orders,x", False)
        fresh = Store.objects.get(pk=store.pk)
        tokens = services._tokens_of(fresh.authorization)  # type: ignore[arg-type]
        channel = adapter.sales_channel(fresh, tokens=tokens, save_tokens=lambda t: None)
        assert channel.notify_customer is False


def _sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.mark.django_db(transaction=True)
def test_connect_and_a_notification_through_the_core(sandbox: Sandbox, tenant: Any, settings: Any) -> None:
    """The seller types the shop, consents, comes back; a signed notification is recorded with its headers, a
    duplicate is dropped, and the worker reads it again from body and headers."""
    started = tenant.client.post("/stores/shopify/connect/", {"shop": "dropline-demo"})
    assert started.status_code == 302
    consent = sandbox.control_http.get(started["Location"])
    back = urlsplit(consent.headers["location"])
    assert back.path == "/stores/shopify/callback/"
    finished = tenant.client.get(f"{back.path}?{back.query}")
    assert finished.status_code == 302
    store = Store.unscoped.select_related("authorization").get(platform=Platform.SHOPIFY, external_id=SHOP)
    assert store.authorization is not None
    assert (store.name, store.code, store.authorization.seller_id) == ("Dropline Demo Store", "dropline-demo", SHOP)
    with organization_scope(store.organization):
        assert "write_inventory" in ShopifyStoreSettings.objects.get(store=store).granted_scopes

    order_id = sandbox.control("GET", "/sandbox/orders", params={"shop": SHOP})["orders"][0]["id"].rsplit("/", 1)[-1]
    body = json.dumps({"id": int(order_id), "name": "#1001"}, separators=(",", ":")).encode()
    headers = {
        "HTTP_X_SHOPIFY_HMAC_SHA256": _sign(settings.SHOPIFY_CLIENT_SECRET, body),
        "HTTP_X_SHOPIFY_TOPIC": "orders/updated",
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": SHOP,
        "HTTP_X_SHOPIFY_EVENT_ID": "evt-1",
        "HTTP_X_SHOPIFY_WEBHOOK_ID": "delivery-1",
    }
    client = Client()
    assert client.post("/webhooks/shopify/", body, content_type="application/json", **headers).status_code == 200
    assert client.post("/webhooks/shopify/", body, content_type="application/json", **headers).status_code == 200
    forged = {**headers, "HTTP_X_SHOPIFY_HMAC_SHA256": _sign("not-the-secret", body)}
    assert client.post("/webhooks/shopify/", body, content_type="application/json", **forged).status_code == 401

    with organization_scope(store.organization):
        (delivery,) = WebhookDelivery.objects.filter(store=store)
        assert (delivery.notification_id, delivery.topic, delivery.headers["x-shopify-topic"]) == (
            "evt-1",
            "ORDER_STATUS_CHANGE",
            "orders/updated",
        )
        event = registry.adapter_for("shopify").parse_notification(delivery.body.encode(), delivery.headers)
        assert (event.order_id, event.shop_id) == (order_id, SHOP)
