"""The seller cancels an order itself (Cancel Order, with the platform's reasons for the order's status), seeing
first what it does to the store's seller-cancellation rate. A labelled order (awaiting collection: the buyer can no
longer ask, the seller still can) is stopped everywhere at once. Cancel Order takes no idempotency key: a lost answer
is settled by reading the order's cancellations before cancelling again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from aftersales.models import DecisionState, SellerCancellation
from aftersales.services import Outcome, seller_cancel_execute
from erp.tenancy import organization_scope
from inventory.models import Reservation
from orders.models import Order, OrderStatus
from shipping.models import HandoffItem, LabelPurchase
from tests.shipping.test_cancelled_after_label import world  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db
OUT_OF_STOCK = "seller_cancel_reason_out_of_stock"


def cancellations_on_platform(tiktok: Any, order: Order) -> list[dict[str, Any]]:
    return tiktok.control("GET", f"orders/{order.external_id}/aftersale")["cancellations"]


def test_the_page_shows_the_platforms_reasons_and_the_rate_after_and_cancels_once(
    world: dict[str, Any],  # noqa: F811
    tenant: Any,
    tiktok: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    c = world["c"]  # labelled, in Shenzhen Sun's handoff
    url = reverse("aftersales_seller_cancel", args=[c.pk])
    page = tenant.client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert {r.code for r in page.context["reasons"]} >= {OUT_OF_STOCK, "seller_cancel_reason_wrong_price"}
    assert 'data-testid="cancel-impact"' in html
    impact = page.context["impact"]
    assert impact.rate_after > impact.rate_now
    assert f"{impact.rate_now:.2f}% → {impact.rate_after:.2f}%" in html
    assert 'data-testid="refund-estimate"' in html

    assert tenant.client.post(url, {"reason": "made_up"}).status_code == 400
    assert not SellerCancellation.unscoped.exists()
    for _ in range(2):  # the form posted twice
        with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
            assert tenant.client.post(url, {"reason": OUT_OF_STOCK}).status_code == 302

    (cancel,) = SellerCancellation.unscoped.all()
    assert cancel.state == DecisionState.DONE
    assert cancel.request_external_id
    assert [x["role"] for x in cancellations_on_platform(tiktok, c)] == ["SELLER"]
    assert Order.unscoped.get(pk=c.pk).status == OrderStatus.CANCELLED
    assert LabelPurchase.unscoped.get(pk=world["label_c"].pk).order_cancelled_at is not None
    assert not HandoffItem.unscoped.filter(purchase=world["label_c"]).exists()
    assert any(c.external_id in m.subject for m in mail.outbox if "orders@sun.example" in m.to)
    detail = tenant.client.get(reverse("orders_detail", args=[c.pk])).content.decode()
    assert 'data-testid="seller-cancellation"' in detail
    assert 'data-testid="seller-cancel"' not in detail  # nothing left to cancel


@pytest.mark.chaos
def test_a_lost_answer_is_settled_by_reading_the_platform_first_and_cancels_once(
    world: dict[str, Any],  # noqa: F811
    tenant: Any,
    tiktok: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a = world["a"]
    cancel_api = "POST /return_refund/{v}/cancellations"
    tiktok.control("POST", "faults", drop_response_after_commit=[{"api": cancel_api, "next": 1}])
    with django_capture_on_commit_callbacks(execute=False):  # we drive the worker
        tenant.client.post(reverse("aftersales_seller_cancel", args=[a.pk]), {"reason": OUT_OF_STOCK})
    cancel = SellerCancellation.unscoped.get()
    with organization_scope(tenant.organization):
        assert seller_cancel_execute(cancel_id=cancel.pk) == Outcome.UNKNOWN  # cancelled there, the answer lost
        assert seller_cancel_execute(cancel_id=cancel.pk) == Outcome.BUSY  # a duplicate delivery, meanwhile
        assert seller_cancel_execute(cancel_id=cancel.pk, stale_after=timedelta(0)) == Outcome.ADOPTED
    cancel.refresh_from_db()
    assert cancel.state == DecisionState.DONE
    assert cancel.adopted
    assert cancel.attempts == 2
    assert [x["role"] for x in cancellations_on_platform(tiktok, a)] == ["SELLER"]  # cancelled once
    assert Order.unscoped.get(pk=a.pk).status == OrderStatus.CANCELLED
    assert not Reservation.unscoped.filter(order_id=a.pk).exists()


def test_an_order_already_shipped_offers_no_cancellation(
    world: dict[str, Any],  # noqa: F811
    tenant: Any,
    tiktok: Any,
) -> None:
    b = world["b"]
    tiktok.control("POST", f"orders/{b.external_id}/events", type="advance")  # collected: in transit
    with organization_scope(tenant.organization):
        from orders.services import orders_fetch

        orders_fetch(store=world["store"], order_ids=[b.external_id])
    page = tenant.client.get(reverse("aftersales_seller_cancel", args=[b.pk]))
    assert 'data-testid="seller-cancel-impossible"' in page.content.decode()
    refused = tenant.client.post(reverse("aftersales_seller_cancel", args=[b.pk]), {"reason": OUT_OF_STOCK})
    assert refused.status_code == 400
    assert not SellerCancellation.unscoped.exists()
