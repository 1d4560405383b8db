"""Inventory REST API: a WMS posts receipts, counts and adjustments through the same services as the dashboard
(refusals use the one error body and change nothing), listings are mapped, SKUs are created and edited, the lists
filter and their query counts do not grow with rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from erp import services as erp_services
from erp.actors import Actor
from erp.ids import uuid7
from erp.models import AuditEntry
from erp.roles import Role
from erp.tenancy import organization_scope
from inventory import services
from inventory.models import MovementKind, Sku, StockLevel, StockMovement, Warehouse, WarehouseKind
from tests.factories import ListingFactory, SkuFactory, StoreFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


class API:
    """A partner system calling with an API key."""

    def __init__(self, key: str) -> None:
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(f"/api/v1/{path}", params or {}, **self.headers)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"/api/v1/{path}", body, content_type="application/json", **self.headers)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.patch(f"/api/v1/{path}", body, content_type="application/json", **self.headers)


@dataclass
class Stock:
    warehouse: Warehouse
    other: Warehouse
    sku: Sku


@pytest.fixture
def api(tenant: Any) -> API:
    return API(tenant.api_key)


@pytest.fixture
def stock(tenant: Any) -> Stock:
    organization = tenant.organization
    return Stock(
        warehouse=WarehouseFactory(organization=organization, name="Reno", code="RNO"),
        other=WarehouseFactory(organization=organization, name="Austin 3PL", kind=WarehouseKind.THREE_PL),
        sku=SkuFactory(organization=organization, code="TEE-RED-L", name="Red tee, large"),
    )


def _level(tenant: Any, sku: Sku, warehouse: Warehouse) -> StockLevel | None:
    with organization_scope(tenant.organization):
        return StockLevel.objects.filter(sku=sku, warehouse=warehouse).first()


def _ledger(tenant: Any, sku: Sku) -> list[tuple[str, int]]:
    with organization_scope(tenant.organization):
        return [(m.kind, m.on_hand_delta) for m in StockMovement.objects.filter(sku=sku).order_by("created_at", "id")]


# ------------------------------------------------------------------------------------ WMS posts stock changes
def test_a_wms_posts_a_receipt_a_count_and_an_adjustment(tenant: Any, stock: Stock, api: API) -> None:
    receipt = api.post(
        "stock-movements/",
        {"kind": "receipt", "sku": "TEE-RED-L", "warehouse": "Reno", "quantity": 20, "reference": "ASN-1"},
    )
    assert receipt.status_code == 201, receipt.json()
    assert receipt.json()["on_hand"] == 20
    assert receipt.json()["available"] == 20
    assert receipt.json()["sku"]["code"] == "TEE-RED-L"
    assert receipt.json()["warehouse"]["name"] == "Reno"

    count = api.post("stock-movements/", {"kind": "count", "sku": "TEE-RED-L", "warehouse": "rno", "quantity": 18})
    assert count.status_code == 201
    assert count.json()["on_hand"] == 18

    adjustment = api.post(
        "stock-movements/",
        {
            "kind": "adjustment",
            "sku": str(stock.sku.pk),
            "warehouse": str(stock.warehouse.pk),
            "quantity": -3,
            "reason": "water damage",
        },
    )
    assert adjustment.status_code == 201
    assert adjustment.json()["on_hand"] == 15

    assert _level(tenant, stock.sku, stock.warehouse).on_hand == 15
    assert _ledger(tenant, stock.sku) == [
        (MovementKind.RECEIPT, 20),
        (MovementKind.COUNT, -2),
        (MovementKind.ADJUSTMENT, -3),
    ]
    with organization_scope(tenant.organization):
        first = StockMovement.objects.filter(sku=stock.sku).order_by("created_at", "id").first()
    assert first.reference == "ASN-1"
    assert first.actor_label.startswith("API key")


def _assert_refused(response: Any, field: str, text: str) -> None:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["type"] == "validation_error"
    assert any(text in message for message in error["fields"][field]), error


def test_refused_changes_use_the_one_error_body_and_change_nothing(tenant: Any, stock: Stock, api: API) -> None:
    with organization_scope(tenant.organization):
        services.stock_receive(sku=stock.sku, warehouse=stock.warehouse, quantity=5, actor=Actor.system())
        services.order_reserve(
            order_id=uuid7(), demand={stock.sku.pk: 4}, warehouse_ids=[stock.warehouse.pk], actor=Actor.system()
        )
    base = {"sku": "TEE-RED-L", "warehouse": "Reno"}

    _assert_refused(
        api.post("stock-movements/", base | {"kind": "adjustment", "quantity": -1}), "reason", "Say why the stock"
    )
    _assert_refused(
        api.post("stock-movements/", base | {"kind": "adjustment", "quantity": -2, "reason": "lost"}),
        "quantity",
        "4 units are reserved for orders",
    )
    _assert_refused(
        api.post("stock-movements/", base | {"kind": "count", "quantity": 3}), "quantity", "4 units are reserved"
    )
    _assert_refused(api.post("stock-movements/", base | {"kind": "receipt", "quantity": 0}), "quantity", "at least one")
    _assert_refused(api.post("stock-movements/", base | {"kind": "shipment", "quantity": 1}), "kind", "not a valid")
    _assert_refused(
        api.post("stock-movements/", {"kind": "receipt", "sku": "NOPE", "warehouse": "Reno", "quantity": 1}),
        "sku",
        "No SKU with the code or id NOPE",
    )
    _assert_refused(
        api.post("stock-movements/", {"kind": "receipt", "sku": "TEE-RED-L", "warehouse": "Mars", "quantity": 1}),
        "warehouse",
        "No warehouse named, coded or numbered Mars",
    )
    fbt = WarehouseFactory(
        organization=tenant.organization, name="TikTok FBT", kind=WarehouseKind.PLATFORM, platform="tiktok"
    )
    _assert_refused(
        api.post("stock-movements/", {"kind": "receipt", "sku": "TEE-RED-L", "warehouse": str(fbt.pk), "quantity": 1}),
        "non_field_errors",
        "held by TikTok",
    )

    level = _level(tenant, stock.sku, stock.warehouse)
    assert (level.on_hand, level.reserved) == (5, 4)
    assert _level(tenant, stock.sku, fbt) is None
    assert [kind for kind, _ in _ledger(tenant, stock.sku)] == [MovementKind.RECEIPT, MovementKind.RESERVATION]


def test_read_keys_and_read_only_roles_cannot_post_stock_changes(tenant: Any, stock: Stock) -> None:
    _, read_key = erp_services.api_key_create(
        organization=tenant.organization, actor=Actor.for_user(tenant.owner), name="BI", scope="read"
    )
    body = {"kind": "receipt", "sku": "TEE-RED-L", "warehouse": "Reno", "quantity": 5}
    refused = API(read_key).post("stock-movements/", body)
    assert refused.status_code == 403
    assert refused.json()["error"]["type"] == "permission_denied"
    viewer = tenant.client_as(Role.VIEWER)
    assert viewer.post("/api/v1/stock-movements/", body, content_type="application/json").status_code == 403
    assert viewer.get("/api/v1/stock-movements/").status_code == 200
    assert _level(tenant, stock.sku, stock.warehouse) is None


# ----------------------------------------------------------------------------------------------- the ledger
def test_the_ledger_lists_newest_first_and_filters(tenant: Any, stock: Stock, api: API) -> None:
    mug = SkuFactory(organization=tenant.organization, code="MUG-BLUE")
    for sku, warehouse in ((stock.sku, stock.warehouse), (mug, stock.other)):
        api.post(
            "stock-movements/", {"kind": "receipt", "sku": sku.code, "warehouse": str(warehouse.pk), "quantity": 4}
        )
    api.post("stock-movements/", {"kind": "count", "sku": "TEE-RED-L", "warehouse": "Reno", "quantity": 3})

    results = api.get("stock-movements/").json()["results"]
    assert [(r["kind"], r["sku"]["code"]) for r in results] == [
        ("count", "TEE-RED-L"),
        ("receipt", "MUG-BLUE"),
        ("receipt", "TEE-RED-L"),
    ]

    def codes(**params: str) -> list[str]:
        response = api.get("stock-movements/", params)
        assert response.status_code == 200, response.json()
        return [(r["kind"], r["sku"]["code"]) for r in response.json()["results"]]

    assert codes(sku="MUG-BLUE") == [("receipt", "MUG-BLUE")]
    assert codes(sku=str(mug.pk)) == [("receipt", "MUG-BLUE")]
    assert codes(warehouse="Austin 3PL") == [("receipt", "MUG-BLUE")]
    assert codes(warehouse="nowhere") == []
    assert codes(kind="count") == [("count", "TEE-RED-L")]
    assert codes(since="2000-01-01T00:00:00Z", until="2000-01-02T00:00:00Z") == []
    assert len(codes(since="2000-01-01T00:00:00Z")) == 3


def test_stock_levels_filter_by_sku_and_warehouse(tenant: Any, stock: Stock, api: API) -> None:
    with organization_scope(tenant.organization):
        services.stock_receive(sku=stock.sku, warehouse=stock.warehouse, quantity=5, actor=Actor.system())
        services.stock_receive(sku=stock.sku, warehouse=stock.other, quantity=2, actor=Actor.system())
    everything = api.get("stock-levels/").json()["results"]
    assert sorted(r["on_hand"] for r in everything) == [2, 5]
    only = api.get("stock-levels/", {"sku": "TEE-RED-L", "warehouse": "RNO"}).json()["results"]
    assert [(r["warehouse"]["name"], r["on_hand"], r["reserved"], r["available"]) for r in only] == [("Reno", 5, 0, 5)]


# ------------------------------------------------------------------------------------------------------- SKUs
def test_skus_are_created_edited_and_filtered(tenant: Any, stock: Stock, api: API) -> None:
    created = api.post("skus/", {"code": "CAP-BLK", "name": "Black cap", "low_stock_threshold": 2, "weight": "3.5"})
    assert created.status_code == 201, created.json()
    assert created.json()["on_hand"] == 0
    assert created.json()["is_low_stock"] is True  # 0 available ≤ 2

    duplicate = api.post("skus/", {"code": "CAP-BLK", "name": "Again"})
    assert duplicate.status_code == 400
    assert "already has the code" in duplicate.json()["error"]["fields"]["code"][0]

    patched = api.patch(f"skus/{created.json()['id']}/", {"name": "Black cap (adjustable)"})
    assert patched.status_code == 200
    assert patched.json()["name"] == "Black cap (adjustable)"
    assert patched.json()["code"] == "CAP-BLK"
    with organization_scope(tenant.organization):
        assert AuditEntry.objects.filter(action="sku.changed", target_id=created.json()["id"]).exists()

    assert api.client.put(f"/api/v1/skus/{created.json()['id']}/", {}, **api.headers).status_code == 405

    def codes(**params: str) -> list[str]:
        return sorted(r["code"] for r in api.get("skus/", params).json()["results"])

    assert codes() == ["CAP-BLK", "TEE-RED-L"]
    assert codes(code="TEE-RED-L") == ["TEE-RED-L"]
    assert codes(search="cap") == ["CAP-BLK"]
    assert codes(low_stock="true") == ["CAP-BLK"]
    assert codes(low_stock="false") == ["TEE-RED-L"]


def test_sku_totals_sum_every_warehouse(tenant: Any, stock: Stock, api: API) -> None:
    with organization_scope(tenant.organization):
        services.stock_receive(sku=stock.sku, warehouse=stock.warehouse, quantity=5, actor=Actor.system())
        services.stock_receive(sku=stock.sku, warehouse=stock.other, quantity=2, actor=Actor.system())
        services.order_reserve(
            order_id=uuid7(), demand={stock.sku.pk: 1}, warehouse_ids=[stock.other.pk], actor=Actor.system()
        )
    body = api.get(f"skus/{stock.sku.pk}/").json()
    assert (body["on_hand"], body["reserved"], body["available"]) == (7, 1, 6)


# --------------------------------------------------------------------------------------------------- listings
def test_listings_are_listed_by_mapping_and_mapped_through_the_api(tenant: Any, stock: Stock, api: API) -> None:
    store = StoreFactory(organization=tenant.organization)
    unmapped = ListingFactory(organization=tenant.organization, store=store, sku=None)
    ListingFactory(organization=tenant.organization, store=store, sku=stock.sku)

    waiting = api.get("listings/", {"mapped": "false"}).json()["results"]
    assert [r["id"] for r in waiting] == [str(unmapped.pk)]
    assert waiting[0]["is_mapped"] is False
    assert waiting[0]["sku"] is None

    unknown = api.post(f"listings/{unmapped.pk}/map/", {"sku": "NOPE"})
    assert unknown.status_code == 400
    assert "No SKU" in unknown.json()["error"]["fields"]["sku"][0]
    unmapped.refresh_from_db()
    assert unmapped.sku_id is None

    mapped = api.post(f"listings/{unmapped.pk}/map/", {"sku": "TEE-RED-L"})
    assert mapped.status_code == 200, mapped.json()
    assert mapped.json()["sku"]["code"] == "TEE-RED-L"
    unmapped.refresh_from_db()
    assert unmapped.sku_id == stock.sku.pk
    assert api.get("listings/", {"mapped": "false"}).json()["results"] == []

    other = SkuFactory(organization=tenant.organization, code="MUG-BLUE")
    by_id = api.post(f"listings/{unmapped.pk}/map/", {"sku": str(other.pk)})
    assert by_id.json()["sku"]["code"] == "MUG-BLUE"
    assert api.post(f"listings/{unmapped.pk}/map/", {"sku": None}).json()["sku"] is None


def test_warehouses_are_listed_and_read(tenant: Any, stock: Stock, api: API) -> None:
    names = sorted(r["name"] for r in api.get("warehouses/").json()["results"])
    assert names == ["Austin 3PL", "Reno"]
    detail = api.get(f"warehouses/{stock.warehouse.pk}/").json()
    assert detail["code"] == "RNO"
    assert detail["is_read_only"] is False
    assert api.post("warehouses/", {"name": "New"}).status_code == 405


# ----------------------------------------------------------------------------------------- query-count guards
@pytest.mark.parametrize("path", ["skus/", "warehouses/", "listings/", "stock-levels/", "stock-movements/"])
def test_list_endpoints_query_count_does_not_grow_with_rows(
    tenant: Any, api: API, path: str, django_assert_max_num_queries: Any
) -> None:
    store = StoreFactory(organization=tenant.organization)
    for n in range(20):
        warehouse = WarehouseFactory(organization=tenant.organization)
        sku = SkuFactory(organization=tenant.organization)
        ListingFactory(organization=tenant.organization, store=store, sku=sku if n % 2 else None)
        with organization_scope(tenant.organization):
            services.stock_receive(sku=sku, warehouse=warehouse, quantity=n + 1, actor=Actor.system())
    with django_assert_max_num_queries(6):
        response = api.get(path)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 20
