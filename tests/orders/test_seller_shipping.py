"""Seller-shipping orders are not a dead end: before the store's cut-off the order page, a CSV and the API take the
carrier and tracking and mark the order shipped on TikTok exactly once, with TikTok's answer shown; after it, the page
says what to change in Seller Center. Every "once" is counted in the sandbox's own ledger of Mark Package As Shipped
calls, not in Dropline's rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.models import Store, TikTokShopSettings
from orders import seller_shipping
from orders.models import Order, OrderStatus, SellerShipment, SellerShipmentState
from tests.tiktok_harness import tiktok_client

pytestmark = pytest.mark.django_db

MARK_SHIPPED = "POST /fulfillment/{v}/orders/{order_id}/packages"
UPS = "7117859084333745966"
PACIFIC = ZoneInfo("America/Los_Angeles")


@pytest.fixture(autouse=True)
def _fresh_carrier_cache() -> None:
    cache.clear()


def _set_cut_off(store: Store, *, days_from_now: int) -> None:
    day = (timezone.now() + timedelta(days=days_from_now)).astimezone(PACIFIC).date()
    TikTokShopSettings.unscoped.filter(store=store).update(official_logistics_from=day, logistics_transition_from=None)
    store.refresh_from_db()


@pytest.fixture
def shop(connected_store: Store) -> Store:
    """The demo US shop, connected and imported, whose seller-shipping cut-off is still 20 days away."""
    _set_cut_off(connected_store, days_from_now=20)
    return connected_store


def seller_orders(store: Store, n: int = 1) -> list[Order]:
    return list(
        Order.unscoped.filter(
            store=store, status=OrderStatus.AWAITING_SHIPMENT, label_source="seller", buyer_requested_cancel=False
        )
        .exclude(fulfilled_by="platform")
        .order_by("external_id")[:n]
    )


def ledger(tiktok: Any, order: Order) -> list[dict[str, Any]]:
    """Mark Package As Shipped calls the platform committed for this order (the sandbox's own record)."""
    return tiktok.control("GET", f"seller_shipments?order_id={order.external_id}")["seller_shipments"]


def page(tenant: Any, order: Order) -> str:
    response = tenant.client.get(f"/orders/{order.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def request(store: Store, order: Order, tracking: str, carrier: str = "UPS") -> SellerShipment:
    with organization_scope(store.organization):
        return seller_shipping.seller_shipment_request(
            order=order, carrier=carrier, tracking_number=tracking, actor=Actor.system("test")
        )


def send(store: Store, shipment: SellerShipment) -> str:
    with organization_scope(store.organization):
        return seller_shipping.seller_shipment_send(shipment_id=shipment.pk)


# ------------------------------------------------------------------------------------------------------ the page
def test_before_the_cut_off_the_page_explains_the_policy_and_offers_the_platforms_carriers(
    shop: Store, tenant: Any
) -> None:
    order = seller_orders(shop)[0]
    html = page(tenant, order)
    assert 'data-accepts="1"' in html
    assert "still accepts seller shipping" in html
    assert 'data-testid="seller-shipment-form"' in html
    # The carriers are TikTok's for the order's delivery option (Get Shipping Providers), by their TikTok ids.
    for provider_id, name in (("7117858858072016686", "USPS"), (UPS, "UPS"), ("7129736293386585862", "FedEx")):
        assert f'value="{provider_id}"' in html
        assert name in html


def test_after_the_cut_off_the_page_says_what_to_change_in_seller_center_and_offers_no_form(
    shop: Store, tenant: Any, tiktok: Any
) -> None:
    _set_cut_off(shop, days_from_now=-3)
    order = seller_orders(shop)[0]
    html = page(tenant, order)
    assert 'data-accepts="0"' in html
    assert "TikTok no longer accepts seller shipping for this store" in html
    assert "Seller Center" in html
    assert "TikTok Shipping" in html
    assert 'data-testid="seller-shipment-form"' not in html
    # Posting anyway is refused before the platform is called.
    response = tenant.client.post(
        f"/orders/{order.pk}/mark-shipped/", {"carrier": UPS, "tracking_number": "1Z999AA10123456784"}, follow=True
    )
    assert "no longer accepts seller shipping" in response.content.decode()
    assert not SellerShipment.unscoped.filter(order=order).exists()
    assert ledger(tiktok, order) == []


def test_a_person_marks_it_shipped_once_and_sees_tiktoks_answer_in_the_page_and_history(
    shop: Store, tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = seller_orders(shop)[0]
    form = {"carrier": UPS, "tracking_number": "1Z999AA10123456784"}
    with django_capture_on_commit_callbacks(execute=True):
        tenant.client.post(f"/orders/{order.pk}/mark-shipped/", form)
    with django_capture_on_commit_callbacks(execute=True):
        tenant.client.post(f"/orders/{order.pk}/mark-shipped/", form)  # pressed twice
    assert len(ledger(tiktok, order)) == 1
    shipment = SellerShipment.unscoped.get(order=order)
    assert shipment.state == SellerShipmentState.SHIPPED
    assert shipment.package_id == ledger(tiktok, order)[0]["package_id"]
    assert not shipment.adopted
    order.refresh_from_db()
    assert order.tracking_number == "1Z999AA10123456784"
    assert order.shipped_at is not None  # the platform's ship time, fetched back
    assert order.status == OrderStatus.AWAITING_COLLECTION
    html = page(tenant, order)
    assert "Marked shipped on TikTok" in html
    assert "TikTok's answer: success" in html
    assert "order.marked_shipped" in html  # the order's history
    assert 'data-testid="seller-shipment-form"' not in html


def test_a_dropped_answer_is_not_sent_twice_the_retry_adopts_what_tiktok_has(shop: Store, tiktok: Any) -> None:
    order = seller_orders(shop)[0]
    shipment = request(shop, order, "1Z999AA10123456785")  # recorded; its task waits for the commit
    tiktok.control("POST", "faults", drop_response_after_commit=[{"api": MARK_SHIPPED, "next": 1}])
    assert send(shop, shipment) == seller_shipping.SendOutcome.UNKNOWN
    shipment.refresh_from_db()
    assert shipment.state == SellerShipmentState.SUBMITTING  # not failed, not sent again: we do not know yet
    assert send(shop, shipment) == seller_shipping.SendOutcome.BUSY  # a redelivered task does not send blindly
    with organization_scope(shop.organization):
        outcome = seller_shipping.seller_shipment_reconcile(shipment_id=shipment.pk, stale_after=timedelta(0))
    assert outcome == seller_shipping.SendOutcome.ADOPTED
    shipment.refresh_from_db()
    assert shipment.state == SellerShipmentState.SHIPPED
    assert shipment.adopted
    assert shipment.package_id == ledger(tiktok, order)[0]["package_id"]
    assert len(ledger(tiktok, order)) == 1


def test_already_shipped_on_tiktok_is_taken_as_done(shop: Store, tiktok: Any) -> None:
    """Someone shipped it in Seller Center meanwhile: TikTok answers "already shipped"; the order is adopted."""
    order = seller_orders(shop)[0]
    with organization_scope(shop.organization):
        tiktok_client(shop).mark_package_as_shipped(
            order.external_id, tracking_number="1Z999AA10123456786", carrier_id=UPS
        )
    shipment = request(shop, order, "1Z999AA10123456787")
    assert send(shop, shipment) == seller_shipping.SendOutcome.ADOPTED
    shipment.refresh_from_db()
    assert shipment.state == SellerShipmentState.SHIPPED
    assert shipment.tracking_number == "1Z999AA10123456786"  # what TikTok has, not what was typed
    assert len(ledger(tiktok, order)) == 1


def test_a_refusal_shows_tiktoks_code_and_message_with_the_fix_and_a_correction_is_sent(
    shop: Store, tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = seller_orders(shop)[0]
    with django_capture_on_commit_callbacks(execute=True):  # a FedEx-style number sent as UPS
        tenant.client.post(f"/orders/{order.pk}/mark-shipped/", {"carrier": UPS, "tracking_number": "940011189922"})
    shipment = SellerShipment.unscoped.get(order=order)
    assert (shipment.state, shipment.error_code) == (SellerShipmentState.FAILED, "21004015")
    html = page(tenant, order)
    assert "21004015" in html
    assert "Tracking number mismatch provider." in html
    assert "choose the carrier that printed the label" in html
    assert "order.mark_shipped_refused" in html  # in the order's history too
    assert 'data-testid="seller-shipment-form"' in html  # offered again, to correct it
    assert ledger(tiktok, order) == []
    with django_capture_on_commit_callbacks(execute=True):
        tenant.client.post(
            f"/orders/{order.pk}/mark-shipped/", {"carrier": "7129736293386585862", "tracking_number": "940011189922"}
        )
    shipment.refresh_from_db()
    assert shipment.state == SellerShipmentState.SHIPPED
    assert len(ledger(tiktok, order)) == 1


# ------------------------------------------------------------------------------------------------------- bulk
def test_a_csv_is_checked_whole_then_applied_each_order_once(
    shop: Store, tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first, second = seller_orders(shop, 2)
    official = Order.unscoped.filter(store=shop, label_source="platform").first()
    bad = (
        "order_id,carrier,tracking_number\n"
        f"{first.external_id},UPS,1Z999AA10123456788\n"
        f"{official.external_id},UPS,1Z999AA10123456789\n"
        f"{second.external_id},DHL,1Z999AA10123456790\n"
        "999,UPS,1Z999AA10123456791\n"
    )
    response = tenant.client.post("/orders/seller-shipping/import/", {"text": bad, "action": "check"})
    html = response.content.decode()
    assert "3 problems" in html
    assert "nothing was sent" in html
    assert "official TikTok logistics" in html
    assert "“DHL” is not a carrier TikTok accepts" in html
    assert "no order 999" in html
    # Applying a file with a bad row changes nothing either.
    tenant.client.post("/orders/seller-shipping/import/", {"text": bad, "action": "apply"})
    assert not SellerShipment.unscoped.exists()

    good = (
        "order_id,carrier,tracking_number\n"
        f"{first.external_id},ups,1Z999AA10123456788\n"
        f"{second.external_id},UPS,1Z999AA10123456790\n"
    )
    html = tenant.client.post("/orders/seller-shipping/import/", {"text": good, "action": "check"}).content.decode()
    assert "2 rows ready" in html
    assert f"order {first.external_id} → UPS 1Z999AA10123456788: mark shipped on TikTok" in html
    assert not SellerShipment.unscoped.exists()  # a dry run records nothing
    assert ledger(tiktok, first) == []
    with django_capture_on_commit_callbacks(execute=True):
        tenant.client.post("/orders/seller-shipping/import/", {"text": good, "action": "apply"})
    with django_capture_on_commit_callbacks(execute=True):  # the same file again
        html = tenant.client.post("/orders/seller-shipping/import/", {"text": good, "action": "apply"}).content.decode()
    assert "already sent to TikTok" in html
    for order in (first, second):
        assert SellerShipment.unscoped.get(order=order).state == SellerShipmentState.SHIPPED
        assert SellerShipment.unscoped.get(order=order).source == "csv"
        assert len(ledger(tiktok, order)) == 1


def test_partners_mark_it_shipped_through_the_api_once(
    shop: Store, tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = seller_orders(shop)[0]
    api = {"HTTP_AUTHORIZATION": f"Api-Key {tenant.api_key}"}
    url = f"/api/v1/orders/{order.pk}/seller-shipment/"
    assert tenant.client.get(url, **api).status_code == 404
    body = {"carrier": "UPS", "tracking_number": "1Z999AA10123456792"}
    with django_capture_on_commit_callbacks(execute=True):
        first = tenant.client.post(url, body, content_type="application/json", **api)
    assert first.status_code == 202, first.content
    with django_capture_on_commit_callbacks(execute=True):
        again = tenant.client.post(url, body, content_type="application/json", **api)
    assert again.status_code == 200
    got = tenant.client.get(url, **api).json()
    assert (got["state"], got["carrier_name"], got["source"]) == ("shipped", "UPS", "api")
    assert got["state_label"] == SellerShipmentState.SHIPPED.label
    assert got["package_id"] == ledger(tiktok, order)[0]["package_id"]
    assert len(ledger(tiktok, order)) == 1
    # Refused before calling TikTok: malformed tracking, and any order once the store's cut-off has passed.
    other = seller_orders(shop, 2)[1]
    bad = tenant.client.post(
        f"/api/v1/orders/{other.pk}/seller-shipment/",
        {"carrier": "UPS", "tracking_number": "1Z-999"},
        content_type="application/json",
        **api,
    )
    assert bad.status_code == 400
    assert "tracking_number" in bad.json()["error"]["fields"]
    _set_cut_off(shop, days_from_now=-1)
    late = tenant.client.post(
        f"/api/v1/orders/{other.pk}/seller-shipment/",
        {"carrier": "UPS", "tracking_number": "1Z999AA10123456793"},
        content_type="application/json",
        **api,
    )
    assert late.status_code == 400
    assert "no longer accepts seller shipping" in late.content.decode()
    assert ledger(tiktok, other) == []
    schema = tenant.client.get("/api/v1/schema/").content.decode()
    assert "/api/v1/orders/{id}/seller-shipment/" in schema


# -------------------------------------------------------------------------------------------- list, dashboard
def test_the_list_filters_them_and_the_dashboard_counts_them(
    shop: Store, tenant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    orders = seller_orders(shop)
    # An independent count: seller-shipping orders to ship, straight from the imported rows.
    before = (
        Order.unscoped.filter(
            store=shop,
            label_source="seller",
            status__in=[OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING],
        )
        .exclude(fulfilled_by="platform")
        .count()
    )
    assert before >= 1
    listed = tenant.client.get("/orders/?status=all&logistics=seller_needs_tracking").content.decode()
    assert orders[0].external_id in listed
    home = tenant.client.get("/").content.decode()
    assert f"{before} seller-shipping order{'s' if before != 1 else ''} need tracking" in home
    assert "logistics=seller_needs_tracking" in home
    with django_capture_on_commit_callbacks(execute=True):
        tenant.client.post(
            f"/orders/{orders[0].pk}/mark-shipped/", {"carrier": UPS, "tracking_number": "1Z999AA10123456794"}
        )
    listed = tenant.client.get("/orders/?status=all&logistics=seller_needs_tracking").content.decode()
    assert orders[0].external_id not in listed
    with organization_scope(shop.organization):
        assert seller_shipping.seller_shipping_to_ship_count() == before - 1


def test_buying_labels_for_seller_shipping_orders_says_where_their_tracking_goes(shop: Store, tenant: Any) -> None:
    order = seller_orders(shop)[0]
    response = tenant.client.post("/shipping/batches/new/", {"order": [str(order.pk)]}, follow=True)
    body = response.content.decode()
    assert "No label to buy: 1 seller shipping (no label to buy: enter carrier and tracking on the order" in body
    assert "not TikTok Shipping" not in body


def test_beat_resends_a_lost_message_and_reconciles_a_stale_submission_once(shop: Store, tiktok: Any) -> None:
    from celery import current_app

    from orders.tasks import seller_shipments_resume

    assert current_app.conf.beat_schedule["orders-seller-shipments-resume"]["task"] == "orders.seller_shipments_resume"
    lost, stale = seller_orders(shop, 2)
    pending = request(shop, lost, "1Z999AA10123456796")  # its task's message never ran (the broker lost it)
    dropped = request(shop, stale, "1Z999AA10123456797")
    tiktok.control("POST", "faults", drop_response_after_commit=[{"api": MARK_SHIPPED, "next": 1}])
    assert send(shop, dropped) == seller_shipping.SendOutcome.UNKNOWN  # and then its worker died
    assert seller_shipments_resume() == 0  # young rows are left to their workers
    old = timezone.now() - timedelta(minutes=3)
    SellerShipment.unscoped.filter(pk__in=[pending.pk, dropped.pk]).update(updated_at=old, submitting_since=old)
    assert seller_shipments_resume() == 2
    assert seller_shipments_resume() == 0  # done: nothing left to push
    for shipment, adopted in ((pending, False), (dropped, True)):
        shipment.refresh_from_db()
        assert (shipment.state, shipment.adopted) == (SellerShipmentState.SHIPPED, adopted)
        assert len(ledger(tiktok, shipment.order)) == 1
