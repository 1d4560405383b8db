"""Which dropship suppliers supply a SKU, at what price: set in the SKU form, the API and the CSV, one service."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from erp.actors import Actor
from erp.models import AuditEntry
from erp.tenancy import organization_scope
from inventory.csv_io import csv_export, csv_import
from inventory.models import SkuSupplier, WarehouseKind
from tests.factories import SkuFactory, WarehouseFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


@pytest.fixture
def catalogue(tenant: Any) -> dict[str, Any]:
    with organization_scope(tenant.organization):
        return {
            "sku": SkuFactory(organization=tenant.organization, code="WICK-50", name="Wick"),
            "maker": WarehouseFactory(
                organization=tenant.organization,
                name="Candle Supply Co",
                code="CSC",
                kind=WarehouseKind.SUPPLIER,
                tracks_stock=False,
            ),
            "own": WarehouseFactory(organization=tenant.organization, name="Reno", kind=WarehouseKind.OWN),
        }


def links(tenant: Any) -> dict[str, Decimal | None]:
    with organization_scope(tenant.organization):
        return {f"{link.sku.code}@{link.warehouse.name}": link.cost for link in SkuSupplier.objects.all()}


def test_the_sku_form_ticks_a_supplier_with_its_price_and_unticks_it(tenant: Any, catalogue: dict[str, Any]) -> None:
    sku, maker = catalogue["sku"], catalogue["maker"]
    page = tenant.client.get(f"/inventory/skus/{sku.pk}/").content.decode()
    assert "Supplied by" in page
    assert "Candle Supply Co" in page
    data = {"code": "WICK-50", "name": "Wick", "weight_unit": "oz", "dimension_unit": "in", "is_active": "on"}
    data |= {"low_stock_threshold": "0", f"supplies_{maker.pk}": "on", f"supplier_cost_{maker.pk}": "1.25"}
    assert tenant.client.post(f"/inventory/skus/{sku.pk}/", data).status_code == 302
    assert links(tenant) == {"WICK-50@Candle Supply Co": Decimal("1.25")}
    with organization_scope(tenant.organization):
        assert AuditEntry.objects.filter(action="sku.suppliers_changed", target_id=str(sku.pk)).count() == 1

    del data[f"supplies_{maker.pk}"]
    assert tenant.client.post(f"/inventory/skus/{sku.pk}/", data).status_code == 302
    assert links(tenant) == {}


def test_the_api_sets_and_shows_suppliers_and_refuses_a_warehouse_that_is_not_one(
    tenant: Any, catalogue: dict[str, Any]
) -> None:
    api = Client(HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}")
    sku, maker, own = catalogue["sku"], catalogue["maker"], catalogue["own"]
    response = api.patch(
        f"/api/v1/skus/{sku.pk}/",
        {"suppliers": [{"warehouse": str(maker.pk), "cost": "2.10"}]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["suppliers"] == [{"warehouse": str(maker.pk), "name": "Candle Supply Co", "cost": "2.10"}]
    assert links(tenant) == {"WICK-50@Candle Supply Co": Decimal("2.10")}

    refused = api.patch(
        f"/api/v1/skus/{sku.pk}/", {"suppliers": [{"warehouse": str(own.pk)}]}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert "No dropship supplier of yours has this id." in refused.content.decode()
    untouched = api.patch(f"/api/v1/skus/{sku.pk}/", {"name": "Wick 50"}, content_type="application/json")
    assert untouched.status_code == 200
    assert links(tenant) == {"WICK-50@Candle Supply Co": Decimal("2.10")}


def test_the_csv_links_a_supplier_by_name_or_code_and_exports_it(tenant: Any, catalogue: dict[str, Any]) -> None:
    with organization_scope(tenant.organization):
        bad = csv_import(
            kind="skus",
            text="code,name,supplier,supplier_cost\nWICK-50,Wick,Nobody,1\nCAST-12,Cast,,3\n",
            actor=ACTOR,
            dry_run=True,
        )
        assert [(e.line, e.column) for e in bad.errors] == [(2, "supplier"), (3, "supplier_cost")]
        good = csv_import(
            kind="skus",
            text="code,name,supplier,supplier_cost\nWICK-50,Wick,csc,0.95\nCAST-12,Cast,Candle Supply Co,\n",
            actor=ACTOR,
            dry_run=False,
        )
        assert good.applied, good.errors
        exported = csv_export("skus").splitlines()
    assert links(tenant) == {"WICK-50@Candle Supply Co": Decimal("0.95"), "CAST-12@Candle Supply Co": None}
    assert exported[0].endswith(",supplier,supplier_cost")
    assert any(row.startswith("WICK-50,") and row.endswith(",Candle Supply Co,0.95") for row in exported)
