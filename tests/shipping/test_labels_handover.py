"""How the parcel leaves: outside the US the seller ships the package TikTok created (Ship Package) with the rule's
handover method and pickup slot; a Collections by TikTok warehouse books pickup. Checked against the sandbox's own
view of the package."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from erp.tenancy import organization_scope
from integrations.interface import ShipPackageRequest
from integrations.models import Store
from integrations.services import store_label_provider
from inventory.models import WarehouseKind
from orders.models import Order
from shipping.labels.purchase import PurchaseOutcome
from shipping.models import LabelPurchase, PurchaseState
from tests.factories import LogisticsRuleFactory, WarehouseFactory
from tests.shipping.test_labels import execute, ledger, request, shippable
from tests.tiktok_harness import tiktok_client


def platform_package(tiktok: Any, order: Order) -> dict[str, Any]:
    return tiktok.control("GET", f"orders/{order.external_id}")


@pytest.mark.django_db
def test_outside_the_us_the_package_is_shipped_with_the_rules_pickup_slot(
    tenant: Any, tiktok: Any, connect_store: Callable[..., Store]
) -> None:
    store = connect_store("Dropline Demo UK", "Dropline UK")
    order = shippable(store)[0]
    LogisticsRuleFactory(
        organization=tenant.organization, actions={"handover_method": "PICKUP", "pickup_slot": "afternoon"}
    )
    purchase = request(store, order)
    assert execute(store, purchase) == PurchaseOutcome.BOUGHT
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.PURCHASED
    assert purchase.handover_method == "PICKUP"
    assert purchase.pickup_start.hour == 13  # the sandbox offers 09-12 and 13-17 UTC: the afternoon one
    assert purchase.tracking_number
    assert "pickup: first available afternoon slot" in purchase.choice_reason
    assert ledger(tiktok, order) == []  # nothing bought through Create Packages: TikTok made the package
    view = platform_package(tiktok, order)
    assert view["status"] == "AWAITING_COLLECTION"
    with organization_scope(tenant.organization):
        package = tiktok_client(store).get_package(purchase.package_id)
    assert package.handover_method == "PICKUP"
    assert package.pickup_slot.start == purchase.pickup_start
    assert package.tracking_number == purchase.tracking_number

    # Our record is lost after the platform shipped it: the retry looks first and adopts, it never ships again.
    LabelPurchase.unscoped.filter(pk=purchase.pk).update(state=PurchaseState.PENDING, package_id="")
    assert execute(store, purchase) == PurchaseOutcome.ADOPTED
    purchase.refresh_from_db()
    assert purchase.package_id == package.package_id
    assert purchase.adopted


@pytest.mark.django_db
def test_drop_off_books_no_slot_and_a_second_ship_is_taken_as_done(
    tenant: Any, tiktok: Any, connect_store: Callable[..., Store]
) -> None:
    store = connect_store("Dropline Demo UK", "Dropline UK")
    first, second = shippable(store, 2)
    LogisticsRuleFactory(organization=tenant.organization, actions={"handover_method": "DROP_OFF"})
    purchase = request(store, first)
    assert execute(store, purchase) == PurchaseOutcome.BOUGHT
    purchase.refresh_from_db()
    assert (purchase.handover_method, purchase.pickup_start) == ("DROP_OFF", None)

    # Shipped behind our back (in Seller Center) while our row waited: the platform's "already shipped" is adopted.
    other = request(store, second)
    with organization_scope(tenant.organization):
        package_id = store_label_provider(store).find_package(other.order.external_id, line_ids=other.line_ids)
        tiktok_client(store).ship_package(ShipPackageRequest(package_id, handover_method="DROP_OFF"))
    assert execute(store, other) == PurchaseOutcome.ADOPTED


@pytest.mark.django_db
def test_a_collections_by_tiktok_warehouse_books_the_trucks_pickup_window(
    tenant: Any, tiktok: Any, connect_store: Callable[..., Store]
) -> None:
    store = connect_store()
    order = shippable(store)[0]
    with organization_scope(tenant.organization):
        cbt = WarehouseFactory(
            organization=tenant.organization,
            name="Ontario CBT",
            kind=WarehouseKind.OWN,
            collections_by_tiktok=True,
            time_zone="America/Los_Angeles",
        )
    Order.unscoped.filter(pk=order.pk).update(warehouse=cbt)
    purchase = request(store, order)
    assert execute(store, purchase) == PurchaseOutcome.BOUGHT
    purchase.refresh_from_db()
    assert len(ledger(tiktok, order)) == 1  # the US label is bought once, as always
    assert purchase.handover_method == "PICKUP"
    assert purchase.pickup_start is not None
    assert purchase.pickup_end > purchase.pickup_start
    assert "pickup: first available pickup slot" in purchase.choice_reason
