"""label.purchased and label.failed are published once per outcome, with the purchase as the API shows it."""

from __future__ import annotations

from typing import Any

import pytest

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.models import Store
from orders.models import HoldReason, Order, OrderStatus
from shipping.labels.purchase import PurchaseOutcome
from tests.shipping.test_labels import execute, request, shippable
from webhooks import services
from webhooks.models import WebhookEvent


@pytest.mark.django_db
def test_a_bought_and_a_refused_label_each_publish_their_event_once(connected_store: Store, tiktok: Any) -> None:
    organization = connected_store.organization
    with organization_scope(organization):
        services.endpoint_create(
            organization=organization,
            actor=Actor.system("test"),
            url="https://hooks.example.com/labels",
            events=["label.purchased", "label.failed"],
        )
    bad = Order.unscoped.filter(
        store=connected_store,
        holds__reason=HoldReason.ADDRESS_INVALID,
        status=OrderStatus.AWAITING_SHIPMENT,
        label_source="platform",
    ).first()
    assert bad is not None
    good = shippable(connected_store)[0]
    purchases = [request(connected_store, bad), request(connected_store, good)]
    assert [execute(connected_store, p) for p in purchases] == [PurchaseOutcome.FAILED, PurchaseOutcome.BOUGHT]
    assert execute(connected_store, purchases[1]) == PurchaseOutcome.DONE  # a repeat publishes nothing
    with organization_scope(organization):
        (failed,) = WebhookEvent.objects.filter(type="label.failed")
        (bought,) = WebhookEvent.objects.filter(type="label.purchased")
    assert (failed.object_type, failed.object_id) == ("order", str(bad.pk))
    assert failed.data["error_code"] == "11021012"
    assert (bought.object_id, bought.data["state"]) == (str(good.pk), "purchased")
    assert bought.data["tracking_number"] or bought.data["package_id"]
