"""Handoffs over the API: a supplier's or 3PL's WMS (a key bound to its warehouse) reads only its warehouse's
handoffs and their parcels, acknowledges, hands over (by item or by scanned code) and prints, through the portal's
services; every refusal is a clear 4xx."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.models import AuditEntry
from erp.tenancy import organization_scope
from inventory.models import Warehouse, WarehouseKind
from shipping import handoffs
from shipping.models import Handoff, HandoffItem
from tests.apiclient import API, read_key, warehouse_key
from tests.factories import LabelBatchFactory, WarehouseFactory
from tests.shipping.test_handoffs import bought, supplier_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant: Any) -> dict[str, Any]:
    """One batch: two parcels for supplier S1, one for 3PL T, one from the seller's own warehouse."""
    org = tenant.organization
    s1 = WarehouseFactory(organization=org, name="Shenzhen Sun", kind=WarehouseKind.SUPPLIER)
    tpl = WarehouseFactory(organization=org, name="Reno 3PL", kind=WarehouseKind.THREE_PL)
    own = WarehouseFactory(organization=org, name="Home", kind=WarehouseKind.OWN)
    batch = LabelBatchFactory(organization=org)
    bought(tenant, batch, s1, tracking="TRK-A")
    bought(tenant, batch, s1, tracking="TRK-B")
    bought(tenant, batch, tpl, tracking="TRK-3PL")
    bought(tenant, batch, own, tracking="TRK-OWN")
    with organization_scope(org):
        made = {h.warehouse_id: h for h in handoffs.handoffs_for_batch(batch=batch)}
    return {"s1": s1, "tpl": tpl, "mine": made[s1.pk], "other": made[tpl.pk]}


def handed_over(tenant: Any, handoff: Handoff) -> set[str]:
    with organization_scope(tenant.organization):
        return set(
            HandoffItem.objects.filter(handoff=handoff, handed_over_at__isnull=False).values_list(
                "purchase__tracking_number", flat=True
            )
        )


def test_a_supplier_key_sees_only_its_warehouses_handoffs_and_their_orders(tenant: Any, world: dict[str, Any]) -> None:
    api = API(warehouse_key(tenant, world["s1"]))
    listed = api.get("handoffs/")
    assert listed.status_code == 200
    assert [h["id"] for h in listed.json()["results"]] == [str(world["mine"].pk)]
    assert listed.json()["results"][0]["total"] == 2

    detail = api.get(f"handoffs/{world['mine'].pk}/").json()
    assert sorted(item["tracking_number"] for item in detail["items"]) == ["TRK-A", "TRK-B"]
    assert all(item["order"]["external_id"] and item["handed_over_at"] is None for item in detail["items"])

    refused = api.get("orders/")  # a warehouse-bound key works its handoffs, nothing else
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "warehouse_scope_required")

    other = world["other"].pk
    assert api.get(f"handoffs/{other}/").status_code == 404
    assert api.post(f"handoffs/{other}/acknowledge/").status_code == 404
    assert api.post(f"handoffs/{other}/hand-over/").status_code == 404
    assert api.get(f"handoffs/{other}/documents/labels/").status_code == 404
    assert handed_over(tenant, world["other"]) == set()


def test_the_sellers_key_sees_every_handoff(tenant: Any, world: dict[str, Any]) -> None:
    listed = API(tenant.api_key).get("handoffs/", {"acknowledged": "false"}).json()["results"]
    assert {h["warehouse"]["name"] for h in listed} == {"Shenzhen Sun", "Reno 3PL"}


def test_acknowledge_once_then_hand_over_by_code_and_the_rest(tenant: Any, world: dict[str, Any]) -> None:
    api = API(warehouse_key(tenant, world["s1"]))
    mine = world["mine"].pk

    first = api.post(f"handoffs/{mine}/acknowledge/")
    assert first.status_code == 200
    assert first.json()["acknowledged_at"] is not None
    again = api.post(f"handoffs/{mine}/acknowledge/")
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]  # the first time stays

    scanned = api.post(f"handoffs/{mine}/hand-over/", {"codes": ["TRK-A", "TRK-3PL"]})
    assert scanned.status_code == 200, scanned.json()
    body = scanned.json()
    assert body["handed_over"] == 1
    assert [(s["code"], s["handed_over"]) for s in body["scans"]] == [("TRK-A", True), ("TRK-3PL", False)]
    assert "not a package of this handoff" in body["scans"][1]["message"]
    assert handed_over(tenant, world["mine"]) == {"TRK-A"}
    assert handed_over(tenant, world["other"]) == set()  # another warehouse's parcel is never handed over here

    rest = api.post(f"handoffs/{mine}/hand-over/")
    assert rest.json()["handed_over"] == 1
    assert rest.json()["handoff"]["handed"] == 2
    assert handed_over(tenant, world["mine"]) == {"TRK-A", "TRK-B"}
    with organization_scope(tenant.organization):
        actions = list(AuditEntry.objects.filter(action__startswith="handoff.").values_list("action", flat=True))
    assert sorted(actions) == ["handoff.acknowledged", "handoff.handed_over", "handoff.handed_over"]


def test_hand_over_by_item_refuses_items_of_another_handoff(tenant: Any, world: dict[str, Any]) -> None:
    api = API(warehouse_key(tenant, world["s1"]))
    mine, other = world["mine"], world["other"]
    with organization_scope(tenant.organization):
        item = HandoffItem.objects.get(handoff=mine, purchase__tracking_number="TRK-B")
        foreign = HandoffItem.objects.get(handoff=other)

    refused = api.post(f"handoffs/{mine.pk}/hand-over/", {"items": [str(item.pk), str(foreign.pk)]})
    assert refused.status_code == 400
    assert str(foreign.pk) in refused.json()["error"]["fields"]["items"][0]
    assert handed_over(tenant, mine) == set()  # nothing handed over when one item is refused

    for bad in (
        {"items": ["not-an-id"]},
        {"items": []},
        {"items": [str(item.pk)], "codes": ["TRK-B"]},
        {"codes": [""]},
    ):
        response = api.post(f"handoffs/{mine.pk}/hand-over/", bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["type"] == "validation_error"

    done = api.post(f"handoffs/{mine.pk}/hand-over/", {"items": [str(item.pk)]})
    assert done.json()["handed_over"] == 1
    assert handed_over(tenant, mine) == {"TRK-B"}


def test_a_supplier_key_prints_its_handoffs_labels(tenant: Any, world: dict[str, Any]) -> None:
    api = API(warehouse_key(tenant, world["s1"]))
    pdf = api.get(f"handoffs/{world['mine'].pk}/documents/labels/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    unknown = api.get(f"handoffs/{world['mine'].pk}/documents/invoice/")
    assert unknown.status_code == 400
    assert unknown["Content-Type"] == "application/json"
    with organization_scope(tenant.organization):
        assert AuditEntry.objects.filter(action="handoff.downloaded").count() == 1


def test_another_organizations_handoff_is_not_found(make_tenant: Any, world: dict[str, Any], tenant: Any) -> None:
    stranger = API(make_tenant("Stranger").api_key)
    mine = world["mine"].pk
    assert stranger.get("handoffs/").json()["results"] == []
    assert stranger.get(f"handoffs/{mine}/").status_code == 404
    assert stranger.post(f"handoffs/{mine}/acknowledge/").status_code == 404
    assert stranger.post(f"handoffs/{mine}/hand-over/").status_code == 404
    with organization_scope(tenant.organization):
        assert Handoff.objects.get(pk=mine).acknowledged_at is None


def test_a_read_key_reads_handoffs_but_cannot_work_them(tenant: Any, world: dict[str, Any]) -> None:
    api = API(read_key(tenant))
    mine = world["mine"].pk
    assert api.get(f"handoffs/{mine}/").status_code == 200
    assert api.post(f"handoffs/{mine}/acknowledge/").status_code == 403
    assert api.post(f"handoffs/{mine}/hand-over/").status_code == 403
    assert handed_over(tenant, world["mine"]) == set()


def test_the_warehouse_scope_filter_itself(tenant: Any, world: dict[str, Any]) -> None:
    """The selector the views use: a warehouse's handoffs only; None (the seller) every one."""
    with organization_scope(tenant.organization):
        assert list(handoffs.handoffs_for_warehouse(world["s1"])) == [world["mine"]]
        assert set(handoffs.handoffs_for_warehouse(None)) == {world["mine"], world["other"]}
        assert list(handoffs.handoffs_for_warehouse(Warehouse(pk=world["tpl"].pk))) == [world["other"]]


def test_listing_handoffs_costs_the_same_queries_for_one_or_many(
    tenant: Any, world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    api = API(tenant.api_key)
    with CaptureQueriesContext(connection) as one_batch:
        assert len(api.get("handoffs/").json()["results"]) == 2
    for n in range(3):  # three more batches, each with a handoff to each warehouse
        batch = LabelBatchFactory(organization=tenant.organization)
        bought(tenant, batch, world["s1"], tracking=f"TRK-S{n}")
        bought(tenant, batch, world["tpl"], tracking=f"TRK-T{n}")
        with organization_scope(tenant.organization):
            handoffs.handoffs_for_batch(batch=batch)
    with django_assert_max_num_queries(len(one_batch.captured_queries)):
        assert len(api.get("handoffs/").json()["results"]) == 8


def test_a_supplier_member_works_its_warehouses_handoffs_with_the_portals_permission(
    tenant: Any, world: dict[str, Any]
) -> None:
    """A supplier member has `handoffs.receive` only (no `view`): over the API, as in the portal, that is enough for
    its own warehouse's handoffs: the API binds a supplier member to the warehouse of its supplier access."""
    supplier = supplier_of(tenant, world["s1"])
    mine = world["mine"].pk
    assert [h["id"] for h in supplier.get("/api/v1/handoffs/").json()["results"]] == [str(mine)]
    acknowledged = supplier.post(f"/api/v1/handoffs/{mine}/acknowledge/", content_type="application/json")
    assert acknowledged.status_code == 200
    assert supplier.get(f"/api/v1/handoffs/{world['other'].pk}/").status_code == 404
    with organization_scope(tenant.organization):
        assert Handoff.objects.get(pk=mine).acknowledged_at is not None
