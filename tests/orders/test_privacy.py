"""Privacy requests forwarded by a platform (Shopify's compliance webhooks): a data request lists what Dropline holds,
a customer redaction blanks the named orders' personal fields, a shop redaction every order's; each is audited, and
other stores' orders are untouched."""

from __future__ import annotations

from typing import Any

import pytest

from erp.models import AuditEntry
from erp.tenancy import organization_scope
from integrations.interface import WebhookEvent
from orders.models import Order
from orders.privacy import PERSONAL_FIELDS, privacy_request_handle
from tests.factories import OrderFactory, StoreFactory

pytestmark = pytest.mark.django_db


def _event(topic: str, order_ids: tuple[str, ...] = ()) -> WebhookEvent:
    return WebhookEvent(
        platform="shopify",
        notification_id="evt-1",
        topic_code=0,
        topic=topic,
        shop_id="dropline-demo.myshopify.com",
        seller_open_id="",
        sent_at=None,
        order_ids=order_ids,
        customer_id="207119551",
        customer_email="john@example.com",
        request_id="9999",
    )


def _personal(order: Order) -> dict[str, object]:
    order.refresh_from_db()
    return {name: getattr(order, name) for name in PERSONAL_FIELDS}


def test_a_customer_redaction_blanks_only_the_named_orders_and_is_audited(tenant: Any) -> None:
    org = tenant.organization
    store, other_store = StoreFactory(organization=org), StoreFactory(organization=org)
    named = OrderFactory(organization=org, store=store, buyer_message="leave at the door", recipient_phone="555")
    kept = OrderFactory(organization=org, store=store)
    same_id_elsewhere = OrderFactory(organization=org, store=other_store, external_id=named.external_id)
    with organization_scope(org):
        privacy_request_handle(store, _event("CUSTOMER_REDACT", (named.external_id, "404")))
        assert set(_personal(named).values()) == {""}
        named.refresh_from_db()
        assert named.address_masked
        assert named.total is not None
        assert _personal(kept)["address_line1"] == "5800 Bristol Pkwy"
        assert _personal(same_id_elsewhere)["address_line1"] == "5800 Bristol Pkwy"
        entry = AuditEntry.objects.get(action="privacy.customer_redacted")
    assert entry.changes["orders_redacted"] == 1
    assert entry.changes["request"] == "9999"


def test_a_data_request_lists_what_is_held_without_changing_it(tenant: Any) -> None:
    org = tenant.organization
    store = StoreFactory(organization=org)
    order = OrderFactory(organization=org, store=store)
    before = _personal(order)
    with organization_scope(org):
        privacy_request_handle(store, _event("CUSTOMER_DATA_REQUEST", (order.external_id,)))
        entry = AuditEntry.objects.get(action="privacy.data_requested")
    assert entry.changes["orders_held"] == [order.external_id]
    assert set(entry.changes["fields_held"]) == set(PERSONAL_FIELDS)
    assert _personal(order) == before


def test_a_shop_redaction_blanks_every_order_of_that_store_only(tenant: Any) -> None:
    org = tenant.organization
    store, other_store = StoreFactory(organization=org), StoreFactory(organization=org)
    orders = [OrderFactory(organization=org, store=store) for _ in range(3)]
    other = OrderFactory(organization=org, store=other_store)
    with organization_scope(org):
        privacy_request_handle(store, _event("SHOP_REDACT"))
        assert AuditEntry.objects.get(action="privacy.shop_redacted").changes["orders_redacted"] == 3
    assert all(_personal(order)["recipient_name"] == "" for order in orders)
    assert _personal(other)["recipient_name"] == "D**** K***"
