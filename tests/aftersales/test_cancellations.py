"""Cancellation requests, end to end against the TikTok sandbox (in-process, signed notifications): a buyer asks,
webhook 11 brings the request into the inbox with what is at stake; the seller approves or rejects, one or many; each
decision reaches the platform once (its idempotency key), is audited, and an approved one releases the order's stock.
Counted against the sandbox's own records.

A buyer may ask to cancel only before the label is bought (the Return & Refund overview: AWAITING_SHIPMENT yes,
AWAITING_COLLECTION no; the sandbox refuses it too). A labelled order is cancelled by the seller (test_seller_cancel)
or by the platform (tests/shipping/test_cancelled_after_label.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from aftersales.models import CancellationRequest, Decision, DecisionState
from aftersales.services import Outcome, decision_execute, decision_reconcile, requests_refresh
from erp.actors import Actor
from erp.models import AuditEntry
from erp.tenancy import organization_scope
from integrations.models import Store
from inventory import services as inventory
from inventory.models import Reservation, WarehouseKind
from orders import services as order_services
from orders.models import Order, OrderStatus
from tests.factories import SkuFactory, WarehouseFactory
from tests.shipping.test_cancelled_after_label import deliver
from tests.shipping.test_labels import shippable
from tests.tiktok_harness import into_dropline

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """Three TikTok orders waiting to ship, no label yet: A and B ship from the seller's own warehouse (2 mugs each
    reserved there), C from a make-to-order supplier."""
    tiktok.sandbox.webhook_transport = into_dropline()
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    org = tenant.organization
    with organization_scope(org):
        order_services.store_sync(store=store)
        a, b, c = shippable(store, 3)
        own = WarehouseFactory(organization=org, name="Reno", kind=WarehouseKind.OWN)
        sun = WarehouseFactory(organization=org, name="Shenzhen Sun", kind=WarehouseKind.SUPPLIER, tracks_stock=False)
        mug = SkuFactory(organization=org, code="MUG-1")
        inventory.stock_receive(sku=mug, warehouse=own, quantity=10, actor=Actor.system("test"), reference="PO-1")
        for order in (a, b):
            inventory.order_reserve(
                order_id=order.pk, demand={mug.pk: 2}, warehouse_ids=[own.pk], actor=Actor.system("test")
            )
        Order.objects.filter(pk__in=[a.pk, b.pk]).update(warehouse=own)
        Order.objects.filter(pk=c.pk).update(warehouse=sun)
    return {"store": store, "a": a, "b": b, "c": c, "own": own, "sun": sun}


def ask_to_cancel(tiktok: Any, order: Order) -> None:
    tiktok.control("POST", f"orders/{order.external_id}/events", type="cancel_request")


def on_platform(tiktok: Any, order: Order) -> list[dict[str, Any]]:
    return tiktok.control("GET", f"orders/{order.external_id}/aftersale")["cancellations"]


def request_of(order: Order) -> CancellationRequest:
    (request,) = CancellationRequest.unscoped.filter(order_external_id=order.external_id)
    return request


def test_a_request_arrives_by_webhook_and_waits_in_the_inbox_with_what_is_at_stake(
    world: dict[str, Any],
    tenant: Any,
    tiktok: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a, c = world["a"], world["c"]
    for order in (a, c):
        ask_to_cancel(tiktok, order)
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)

    for order in (a, c):
        request = request_of(order)
        assert request.needs_decision
        assert request.initiator == "buyer"
        assert request.order_id == order.pk
        assert request.respond_by is not None
        assert request.reason_code
        (platform,) = on_platform(tiktok, order)
        assert platform["id"] == request.external_id
    page = tenant.client.get(reverse("aftersales_cancellations"))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-testid="cancellation-row"') == 2
    assert html.count('data-kind="reserved"') == 1  # A's two mugs at Reno; C is made to order
    assert "2 units reserved at Reno" in html
    assert 'data-testid="nav-cancellations-count">2<' in html
    # the order page says so, and the hold points to Dropline's inbox, not Seller Center
    detail = tenant.client.get(reverse("orders_detail", args=[a.pk])).content.decode()
    assert 'data-testid="order-cancellation"' in detail
    assert "Decide in Cancellations" in detail


def test_approving_two_at_once_decides_each_once_and_releases_their_stock(
    world: dict[str, Any],
    tenant: Any,
    tiktok: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a, c = world["a"], world["c"]
    for order in (a, c):
        ask_to_cancel(tiktok, order)
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    ids = [str(request_of(a).pk), str(request_of(c).pk)]
    url = reverse("aftersales_cancellations")

    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        response = tenant.client.post(url, {"request": ids, "action": "approve"})
    assert response.status_code == 302
    with (
        organization_scope(tenant.organization),
        django_capture_on_commit_callbacks(execute=True),
    ):  # the same form posted again (a second tab, a retry)
        tenant.client.post(url, {"request": ids, "action": "approve"})

    for order in (a, c):
        request = request_of(order)
        (decision,) = Decision.unscoped.filter(cancellation=request)
        assert decision.state == DecisionState.DONE
        assert decision.approve
        assert "accepted" in decision.answer
        assert [p["decided_by"] for p in on_platform(tiktok, order)] == ["SELLER"]
        assert not request.needs_decision
        assert request.status == "approved"
        assert Order.unscoped.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert not Reservation.unscoped.filter(order_id=a.pk).exists()
    assert Reservation.unscoped.filter(order_id=world["b"].pk).exists()
    assert AuditEntry.unscoped.filter(action="aftersale.approved").count() == 2
    assert 'data-testid="cancellations-empty"' in tenant.client.get(url).content.decode()


def test_a_rejection_takes_one_of_the_platforms_reasons_and_the_order_ships_as_normal(
    world: dict[str, Any],
    tenant: Any,
    tiktok: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    b = world["b"]
    ask_to_cancel(tiktok, b)
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    request = request_of(b)
    page = tenant.client.get(reverse("aftersales_cancellations_reject"), {"request": str(request.pk)})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Product has been packed" in html

    bad = tenant.client.post(
        reverse("aftersales_cancellations_reject"), {"request": str(request.pk), "reason": "made_up"}
    )
    assert bad.status_code == 400
    assert not Decision.unscoped.exists()
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        tenant.client.post(
            reverse("aftersales_cancellations_reject"),
            {
                "request": str(request.pk),
                "reason": "seller_reject_apply_product_has_been_packed",
                "comment": "Already in the box",
            },
        )
    (decision,) = Decision.unscoped.filter(cancellation=request)
    assert decision.state == DecisionState.DONE
    assert not decision.approve
    (platform,) = on_platform(tiktok, b)
    assert platform["status"] != "CANCELLATION_REQUEST_PENDING"
    request.refresh_from_db()
    assert request.status == "rejected"
    assert not request.needs_decision
    assert Order.unscoped.get(pk=b.pk).status == OrderStatus.AWAITING_SHIPMENT
    assert Reservation.unscoped.filter(order_id=b.pk).exists()


def test_bad_input_is_a_clear_answer_and_sends_nothing(
    world: dict[str, Any],
    tenant: Any,
    tiktok: Any,
) -> None:
    url = reverse("aftersales_cancellations")
    for form in ({}, {"request": "not-a-uuid"}, {"request": "00000000-0000-0000-0000-000000000000"}):
        response = tenant.client.post(url, form, follow=True)
        assert response.status_code == 200
        assert "Select at least one request" in response.content.decode()
    assert tenant.client.get(reverse("aftersales_cancellations_reject"), {"request": "x"}).status_code == 302
    assert not Decision.unscoped.exists()


@pytest.mark.chaos
def test_a_dropped_answer_is_repeated_with_the_same_key_and_decides_once(
    world: dict[str, Any], tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a = world["a"]
    ask_to_cancel(tiktok, a)
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    approve = "POST /return_refund/{v}/cancellations/{cancel_id}/approve"
    tiktok.control("POST", "faults", drop_response_after_commit=[{"api": approve, "next": 1}])
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        tenant.client.post(reverse("aftersales_cancellations"), {"one": str(request_of(a).pk)})
    (decision,) = Decision.unscoped.all()
    assert decision.state == DecisionState.DONE
    assert decision.attempts == 1
    assert [p["decided_by"] for p in on_platform(tiktok, a)] == ["SELLER"]
    assert Order.unscoped.get(pk=a.pk).status == OrderStatus.CANCELLED


@pytest.mark.chaos
def test_a_decision_whose_answer_was_lost_is_sent_again_with_its_key_and_decided_once(
    world: dict[str, Any],
    tenant: Any,
    tiktok: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a = world["a"]
    ask_to_cancel(tiktok, a)
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    approve = "POST /return_refund/{v}/cancellations/{cancel_id}/approve"
    # every answer is lost, however often the client repeats the call (each repeat carries the same key)
    tiktok.control("POST", "faults", drop_response_after_commit=[{"api": approve, "next": 50}])
    with django_capture_on_commit_callbacks(execute=False):  # the worker is not run yet: we drive it
        tenant.client.post(reverse("aftersales_cancellations"), {"one": str(request_of(a).pk)})
    decision = Decision.unscoped.get()
    with organization_scope(tenant.organization):
        assert decision_execute(decision_id=decision.pk) == Outcome.UNKNOWN  # approved on the platform, answer lost
        decision.refresh_from_db()
        assert decision.state == DecisionState.SUBMITTING
        assert [p["decided_by"] for p in on_platform(tiktok, a)] == ["SELLER"]
        # a second delivery of the task while the first is still "sending" does nothing
        assert decision_execute(decision_id=decision.pk) == Outcome.BUSY
        tiktok.control("DELETE", "faults")
        assert decision_reconcile(decision_id=decision.pk, stale_after=timedelta(0)) == Outcome.DONE
    decision.refresh_from_db()
    assert decision.state == DecisionState.DONE
    assert decision.attempts == 2
    assert not decision.adopted
    assert [p["decided_by"] for p in on_platform(tiktok, a)] == ["SELLER"]  # decided once
    assert Order.unscoped.get(pk=a.pk).status == OrderStatus.CANCELLED


def test_the_scheduled_sync_finds_a_request_whose_notification_was_lost(
    world: dict[str, Any],
    tenant: Any,
    tiktok: Any,
) -> None:
    b = world["b"]
    ask_to_cancel(tiktok, b)  # not delivered
    with organization_scope(tenant.organization):
        assert requests_refresh(store=world["store"]) >= 1
        assert requests_refresh(store=world["store"]) >= 0  # again: nothing doubled
    assert request_of(b).needs_decision


def test_a_request_close_to_its_deadline_is_at_risk(
    world: dict[str, Any], tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a, b = world["a"], world["b"]
    ask_to_cancel(tiktok, b)  # 48 h to answer: not at risk yet
    now = tiktok.control("GET", "clock")["now"]
    tiktok.control("POST", "clock", set=now - 30 * 3600)  # A's buyer asked 30 h ago: 18 h left
    ask_to_cancel(tiktok, a)
    tiktok.control("POST", "clock", set=now)
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)

    html = tenant.client.get(reverse("shipping_at_risk")).content.decode()
    assert html.count('data-testid="at-risk-request"') == 1
    assert f'data-testid="at-risk-request" data-order="{a.external_id}"' in html
    assert "Cancellation request" in html
    inbox = tenant.client.get(reverse("aftersales_cancellations")).content.decode()
    assert inbox.index(a.external_id) < inbox.index(b.external_id)  # soonest deadline first
