"""CSV import: a dry run reports row by row; a file with any bad row changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from erp.actors import Actor
from erp.tenancy import organization_scope
from inventory.csv_io import csv_export, csv_import
from inventory.models import Sku, StockLevel, StockMovement
from tests.factories import SkuFactory, WarehouseFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")

GOOD_SKUS = """code,name,weight,weight_unit,low_stock_threshold
TEE-RED-L,Red tee L,6.5,oz,5
TEE-RED-M,Red tee M,6.2,oz,5
"""

BAD_SKUS = """code,name,weight,weight_unit,low_stock_threshold
TEE-RED-L,Red tee L,heavy,oz,5
,No code,1,oz,1
TEE-RED-M,Red tee M,6.2,stone,-3
TEE-RED-L,Again,1,oz,1
OK-ONE,Fine row,1,oz,1
"""


def run(tenant: Any, kind: str, text: str, dry_run: bool = False) -> Any:
    with organization_scope(tenant.organization):
        return csv_import(kind=kind, text=text, actor=ACTOR, dry_run=dry_run)


def test_a_bad_file_gets_a_report_per_row_and_changes_nothing(tenant: Any) -> None:
    report = run(tenant, "skus", BAD_SKUS)
    assert not report.applied
    problems = {(e.line, e.column) for e in report.errors}
    assert problems == {(2, "weight"), (3, "code"), (4, "weight_unit"), (4, "low_stock_threshold"), (5, "code")}
    assert any("already appears on line 2" in e.message for e in report.errors)
    assert Sku.unscoped.count() == 0  # not even the good row


def test_a_dry_run_shows_what_would_change_without_changing_it(tenant: Any) -> None:
    report = run(tenant, "skus", GOOD_SKUS, dry_run=True)
    assert report.ok
    assert report.changes == ["line 2: create TEE-RED-L", "line 3: create TEE-RED-M"]
    assert Sku.unscoped.count() == 0
    applied = run(tenant, "skus", GOOD_SKUS)
    assert applied.applied
    assert Sku.unscoped.count() == 2


def test_a_missing_column_is_reported_on_the_header(tenant: Any) -> None:
    report = run(tenant, "stock", "sku_code,warehouse\nA,B\n")
    assert report.errors[0].line == 1
    assert "counted" in report.errors[0].column


def test_stock_counts_go_through_the_ledger_and_export_round_trips(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        WarehouseFactory(organization=tenant.organization, name="Reno", code="RNO")
        SkuFactory(organization=tenant.organization, code="TEE-RED-L")
    report = run(tenant, "stock", "sku_code,warehouse,counted,bin_location\nTEE-RED-L,rno,42,A-03-2\n")
    assert report.applied, report.errors
    level = StockLevel.unscoped.get()
    assert (level.on_hand, level.bin_location) == (42, "A-03-2")
    assert StockMovement.unscoped.get().kind == "count"
    with organization_scope(tenant.organization):
        exported = csv_export("stock")
    assert exported.splitlines() == ["sku_code,warehouse,counted,bin_location", "TEE-RED-L,Reno,42,A-03-2"]


def test_unknown_skus_and_warehouses_are_named_in_the_report(tenant: Any) -> None:
    report = run(tenant, "stock", "sku_code,warehouse,counted\nNOPE,Nowhere,3\n")
    assert {e.column for e in report.errors} == {"sku_code", "warehouse"}
    assert "no SKU NOPE" in report.errors[0].message


def test_columns_missing_from_the_file_are_left_alone(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        SkuFactory(organization=tenant.organization, code="TEE-RED-L", barcode="0123456789012")
    report = run(tenant, "skus", "code,name\nTEE-RED-L,Red tee L (renamed)\n")
    assert report.applied, report.errors
    sku = Sku.unscoped.get(code="TEE-RED-L")
    assert sku.name == "Red tee L (renamed)"
    assert sku.barcode == "0123456789012"
