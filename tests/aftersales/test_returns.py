"""Returns and refunds, against the TikTok sandbox: a delivered order comes back (return and refund): webhook 12 brings
it into the Returns inbox; the seller approves the return, the buyer ships it, the parcel is received and restocked at
the warehouse (a `return` ledger entry; the stock check still passes), and the seller confirms the parcel: refunded.
A refund asked before collection is rejected with one of the platform's reasons. Each decision once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from aftersales.models import Decision, DecisionState, ReturnRequest
from aftersales.services import requests_refresh
from erp.tenancy import organization_scope
from inventory.models import Listing, StockLevel, StockMovement
from orders.models import Order
from tests.shipping.test_cancelled_after_label import deliver, world  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


def event(tiktok: Any, order: Order, kind: str, **body: Any) -> None:
    tiktok.control("POST", f"orders/{order.external_id}/events", type=kind, **body)


def on_platform(tiktok: Any, order: Order) -> list[dict[str, Any]]:
    return tiktok.control("GET", f"orders/{order.external_id}/aftersale")["returns"]


def return_of(order: Order) -> ReturnRequest:
    (request,) = ReturnRequest.unscoped.filter(order_external_id=order.external_id)
    return request


def post(tenant: Any, capture: Any, url: str, data: dict[str, Any]) -> Any:
    with organization_scope(tenant.organization), capture(execute=True):
        return tenant.client.post(url, data)


def test_a_return_is_approved_shipped_received_restocked_and_refunded_each_step_once(
    world: dict[str, Any],  # noqa: F811
    tenant: Any,
    tiktok: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a, own, mug = world["a"], world["own"], world["mug"]
    with organization_scope(tenant.organization):  # the order's lines are the mug, so the parcel can be restocked
        quantity = sum(line.quantity for line in a.lines.all())
        for line in a.lines.all():
            Listing.objects.update_or_create(store=world["store"], platform_sku_id=line.sku_id, defaults={"sku": mug})
    for step in ("advance", "advance"):  # collected, then delivered
        event(tiktok, a, step)
    event(tiktok, a, "return_request", return_type="RETURN_AND_REFUND")
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)

    request = return_of(a)
    assert request.kind == "return_and_refund"
    assert request.decisions_open == ["approve_return", "reject_return"]
    assert request.refund_amount is not None
    assert request.respond_by is not None
    inbox = tenant.client.get(reverse("aftersales_returns")).content.decode()
    assert f'data-order="{a.external_id}"' in inbox
    assert "Approve return" in inbox

    url = reverse("aftersales_returns")
    post(tenant, django_capture_on_commit_callbacks, url, {"one": str(request.pk)})
    post(tenant, django_capture_on_commit_callbacks, url, {"one": str(request.pk)})  # a second click
    (approved,) = Decision.unscoped.filter(return_request=request)
    assert approved.state == DecisionState.DONE
    assert approved.return_decision == "approve_return"
    (platform,) = on_platform(tiktok, a)
    assert platform["status"] == "AWAITING_BUYER_SHIP"

    event(tiktok, a, "return_shipped", tracking_number="RET-TRACK-1")
    event(tiktok, a, "return_received")
    with organization_scope(tenant.organization):
        requests_refresh(store=world["store"], order_ids=[a.external_id])
    request.refresh_from_db()
    assert request.return_tracking_number == "RET-TRACK-1"
    assert request.decisions_open == ["approve_received", "reject_received"]

    # the warehouse receives the parcel and restocks it
    on_hand = StockLevel.unscoped.get(sku=mug, warehouse=own).on_hand
    receive = {
        "order": str(a.pk),
        "warehouse": str(own.pk),
        "submission": uuid.uuid4().hex,
        "return_id": request.external_id,
        "tracking_number": request.return_tracking_number,
    }
    receive |= {f"quantity-{mug.pk}": str(quantity), f"outcome-{mug.pk}": "restock", f"reason-{mug.pk}": ""}
    received = post(tenant, django_capture_on_commit_callbacks, reverse("orders_return_receive"), receive)
    assert received.status_code == 302
    assert StockLevel.unscoped.get(sku=mug, warehouse=own).on_hand == on_hand + quantity
    assert StockMovement.unscoped.filter(sku=mug, kind="return").count() == 1
    with organization_scope(tenant.organization):
        call_command("stock_check")

    # the seller confirms the parcel: refunded, once
    post(tenant, django_capture_on_commit_callbacks, url, {"one": str(request.pk)})
    decisions = Decision.unscoped.filter(return_request=request).order_by("created_at")
    assert [(d.return_decision, d.state) for d in decisions] == [
        ("approve_return", DecisionState.DONE),
        ("approve_received", DecisionState.DONE),
    ]
    (platform,) = on_platform(tiktok, a)
    assert platform["status"] in ("RETURN_OR_REFUND_REQUEST_SUCCESS", "RETURN_OR_REFUND_REQUEST_COMPLETE")
    request.refresh_from_db()
    assert request.status == "approved"
    assert request.decisions_open == []
    assert 'data-testid="returns-empty"' in tenant.client.get(url).content.decode()

    # the spend report counts it per SKU and per store, with what the warehouse restocked
    spend = tenant.client.get(reverse("shipping_spend"))
    report = spend.context["sections"][0].context["report"]
    (by_store,) = report["store"]
    assert (by_store.key, by_store.requests, by_store.units_returned) == ("Dropline Home US", 1, quantity)
    assert by_store.refunded == request.refund_amount
    assert by_store.units_sold >= quantity
    assert by_store.rate > 0
    assert sum(r.units_returned for r in report["sku"]) == quantity
    assert next(r for r in report["sku"] if r.key == "MUG-1").restocked == quantity
    assert 'data-testid="spend-returns-sku"' in spend.content.decode()


def test_a_refund_before_collection_is_rejected_with_one_of_the_platforms_reasons(
    world: dict[str, Any],  # noqa: F811
    tenant: Any,
    tiktok: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    b = world["b"]  # its label is bought: awaiting collection
    event(tiktok, b, "return_request", return_type="REFUND")
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    request = return_of(b)
    assert request.kind == "refund_only"
    assert request.decisions_open == ["approve_refund", "reject_refund"]
    inbox = tenant.client.get(reverse("aftersales_returns")).content.decode()
    assert 'data-kind="label"' in inbox  # not collected yet: its bought label is at stake

    reject = reverse("aftersales_returns_reject")
    page = tenant.client.get(reject, {"request": str(request.pk)})
    assert page.status_code == 200
    reasons = page.context["reasons"]
    assert reasons
    assert tenant.client.post(reject, {"request": str(request.pk), "reason": "nope"}).status_code == 400
    post(tenant, django_capture_on_commit_callbacks, reject, {"request": str(request.pk), "reason": reasons[0].code})
    (decision,) = Decision.unscoped.filter(return_request=request)
    assert decision.state == DecisionState.DONE
    assert decision.return_decision == "reject_refund"
    assert decision.reason_code == reasons[0].code
    (platform,) = on_platform(tiktok, b)
    assert platform["status"] == "REFUND_OR_RETURN_REQUEST_REJECT"
    request.refresh_from_db()
    assert request.status == "rejected"
