"""Every bad value gets a clear 4xx (or a row error in a CSV report) and changes nothing; none is a server error.

One row per (way in, field, bad value, expected answer). To cover a new field, add a row: the way in (a function
below that sends one value through one door) and what it must answer. The ranges themselves are docs/adr/0014.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client, RequestFactory

from erp.actors import Actor
from erp.api.exceptions import server_error
from erp.models import AuditEntry
from erp.roles import Role
from erp.tenancy import organization_scope
from integrations.tiktok import translate
from inventory import csv_io
from inventory.models import Sku, StockLevel, StockMovement
from orders.models import Order
from shipping.handoffs import handoff_link_token
from shipping.models import HandoffItem
from tests.conftest import Tenant
from tests.factories import (
    HandoffItemFactory,
    HandoffLinkFactory,
    SkuFactory,
    StockLevelFactory,
    WarehouseFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ROW_ERROR = "row error"  # a CSV answers with its report: the row named, the file not applied
DROPPED = None  # a platform's garbled moment is left out of the order (imported without it), never stored
INT32 = 2**31
LONG = "x" * 1_000_000

ORDER = {
    "reference": "WMS-1",
    "recipient": {"name": "Ada Park", "line1": "500 Main St", "city": "Austin", "state": "TX", "postal_code": "78701"},
    "lines": [{"seller_sku": "MUG", "quantity": 1, "unit_price": "9.50"}],
}


@dataclass(frozen=True)
class World:
    tenant: Tenant
    sku: Sku
    warehouse_name: str
    handoff_item: HandoffItem

    def api(self, method: str, path: str, body: Any = None, **query: str) -> Any:
        # A partner's client sends no CSRF token; Django's test client skips the check unless told to enforce it.
        client = Client(raise_request_exception=False, enforce_csrf_checks=True)
        headers = {"HTTP_AUTHORIZATION": f"Api-Key {self.tenant.api_key}"}
        if method == "get":
            return client.get(path, query, **headers)
        return getattr(client, method)(path, json.dumps(body), content_type="application/json", **headers)

    def page(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        self.tenant.client.raise_request_exception = False
        return getattr(self.tenant.client, method)(path, data or {})


@pytest.fixture
def world(tenant: Tenant) -> World:
    warehouse = WarehouseFactory(organization=tenant.organization, name="Reno")
    sku = SkuFactory(organization=tenant.organization, code="MUG")
    StockLevelFactory(organization=tenant.organization, sku=sku, warehouse=warehouse, on_hand=5)
    return World(tenant, sku, "Reno", HandoffItemFactory(organization=tenant.organization))


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with `path` ("recipient.country_code", "lines.0.unit_price") set to `value`."""
    body = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    target: Any = body
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = value
    return body


# ------------------------------------------------------------------------------------------------ the ways in
def api_order(w: World, field: str, value: Any) -> Any:
    return w.api("post", "/api/v1/orders/", _set(ORDER, field, value))


def api_sku(w: World, field: str, value: Any) -> Any:
    return w.api("post", "/api/v1/skus/", {"code": "NEW-1", "name": "New", field: value})


def api_stock_movement(kind: str) -> Callable[[World, str, Any], Any]:
    def send(w: World, field: str, value: Any) -> Any:
        body = {"kind": kind, "sku": "MUG", "warehouse": w.warehouse_name, "quantity": 1, "reason": "found"}
        return w.api("post", "/api/v1/stock-movements/", {**body, field: value})

    return send


def api_query(path: str) -> Callable[[World, str, Any], Any]:
    return lambda w, field, value: w.api("get", path, **{field: value})


def api_query_as_owner(path: str) -> Callable[[World, str, Any], Any]:
    """The API with the owner's session (the audit log is not for a WMS key)."""
    return lambda w, field, value: w.page("get", path, {field: value})


def api_unknown(method: str) -> Callable[[World, str, Any], Any]:
    return lambda w, field, value: w.api(method, value, {})


def page_query(path: str) -> Callable[[World, str, Any], Any]:
    return lambda w, field, value: w.page("get", path, {field: value})


def page_stock_form(action: str) -> Callable[[World, str, Any], Any]:
    def send(w: World, field: str, value: Any) -> Any:
        warehouse = StockLevel.unscoped.get(sku=w.sku).warehouse_id
        data = {f"{action}-warehouse": str(warehouse), f"{action}-reason": "found", f"{action}-{field}": value}
        return w.page("post", f"/inventory/skus/{w.sku.pk}/{action}/", data)

    return send


def page_warehouse(w: World, field: str, value: Any) -> Any:
    data = {
        "name": "Sparks DC",
        "kind": "own",
        "is_active": "on",
        "tracks_stock": "on",
        "sender_name": "Acme",
        "address_line1": "1 Way",
        "city": "Sparks",
        "state": "NV",
        "postal_code": "89431",
        "country_code": "US",
        "cutoff_time": "14:30",
        "time_zone": "America/Los_Angeles",
        "working_days": ["1", "2", "3", "4", "5"],
    }
    return w.page("post", "/inventory/warehouses/new/", {**data, field: value})


def page_sku(w: World, field: str, value: Any) -> Any:
    data = {"code": "NEW-1", "name": "New", "weight_unit": "oz", "dimension_unit": "in", "low_stock_threshold": "0"}
    return w.page("post", "/inventory/skus/new/", {**data, field: value})


def page_batch_create(w: World, field: str, value: Any) -> Any:
    data = {"all_matching": "1", "filter": f"{field}={value}"} if field != "order" else {"order": value}
    return w.page("post", "/shipping/batches/new/", data)


def page_supplier_access(w: World, field: str, value: Any) -> Any:
    w.tenant.client_as(Role.SUPPLIER)
    member = str(w.tenant.members[Role.SUPPLIER].pk)
    return w.page("post", "/shipping/handoffs/access/", {"member": member, "warehouse": "x", field: value})


def page_handoff(w: World, field: str, value: Any) -> Any:
    action = "scan" if field == "code" else "hand_over"
    return w.page("post", f"/supplier/handoffs/{w.handoff_item.handoff_id}/", {"action": action, field: value})


def link_handoff(w: World, field: str, value: Any) -> Any:
    action = "scan" if field == "code" else "hand_over"
    with organization_scope(w.tenant.organization):
        link = HandoffLinkFactory(organization=w.tenant.organization, handoff=w.handoff_item.handoff)  # no audit entry
        token = handoff_link_token(link)
    return Client(raise_request_exception=False).post(f"/handoffs/link/{token}/", {"action": action, field: value})


def page_packing(w: World, field: str, value: Any) -> Any:
    return w.page("post", "/shipping/scan/", {field: value})


def csv_file(kind: str, header: str, good: str) -> Callable[[World, str, Any], Any]:
    """A CSV of `kind` whose `field` cell is `value`, checked (dry run) then applied: both must be row errors."""

    def send(w: World, field: str, value: Any) -> Any:
        columns = header.split(",")
        cells = good.split(",")
        cells[columns.index(field)] = value
        text = f"{header}\n{','.join(cells)}\n"
        with organization_scope(w.tenant.organization):
            actor = Actor.for_user(w.tenant.owner)
            return [csv_io.csv_import(kind=kind, text=text, actor=actor, dry_run=dry) for dry in (True, False)]

    return send


CSV_SKUS = csv_file("skus", "code,name,weight,low_stock_threshold,cost", "NEW-1,New,1.5,3,2.50")
CSV_STOCK = csv_file("stock", "sku_code,warehouse,counted", "MUG,Reno,4")


def platform_order(w: World, field: str, value: Any) -> Any:
    """A TikTok order payload with `field` garbled: translated without an error, the moment left out (None) rather
    than stored out of range; the answer is the translated value of the field."""
    payload = {"id": "5764000000000001", "status": "AWAITING_SHIPMENT", "create_time": 1764800000, field: value}
    return translate.order_from_json(payload).deadlines.ship_by


# -------------------------------------------------------------------------------------------------- the cases
@dataclass(frozen=True)
class Case:
    way_in: Callable[[World, str, Any], Any]
    field: str
    value: Any
    expected: int | str | None  # an HTTP status, ROW_ERROR, or DROPPED
    label: str

    def __str__(self) -> str:
        return self.label


def case(
    label: str, way_in: Callable[[World, str, Any], Any], field: str, value: Any, expected: int | str | None
) -> Any:
    return pytest.param(Case(way_in, field, value, expected, label), id=label)


CASES = [
    # dates at every way in
    case("api order ship_by year 1", api_order, "ship_by", "0001-01-01T00:00:00Z", 400),
    case("api order ship_by year 9999", api_order, "ship_by", "9999-12-31T00:00:00Z", 400),
    case("platform ship_by year 9999", platform_order, "rts_sla_time", 253402214400, DROPPED),
    case("platform ship_by 1e30", platform_order, "rts_sla_time", 1e30, DROPPED),
    case("platform ship_by year 1", platform_order, "rts_sla_time", -62135596800, DROPPED),
    case("platform ship_by text", platform_order, "rts_sla_time", "yesterday", DROPPED),
    # what the CSV refuses, the API refuses
    case("api order negative unit price", api_order, "lines.0.unit_price", "-1.00", 400),
    case("api order unit price over precision", api_order, "lines.0.unit_price", "99999999999.99", 400),
    case(
        "api order total over precision",
        api_order,
        "lines.0",
        {"seller_sku": "MUG", "quantity": 999, "unit_price": "9999999999.00"},
        400,
    ),
    case("api order country ZZ", api_order, "recipient.country_code", "ZZ", 400),
    case("api order currency xxx", api_order, "currency", "xxx", 400),
    case("api order 1 MB buyer message", api_order, "buyer_message", LONG, 400),
    case("api order 3 MB body", api_order, "buyer_message", LONG * 3, 400),
    case("api order NUL in name", api_order, "recipient.name", "A\x00B", 400),
    case("page warehouse country ZZ", page_warehouse, "country_code", "ZZ", 200),
    case("page sku negative weight", page_sku, "weight", "-1", 200),
    case("page sku weight 1e30", page_sku, "weight", "1e30", 200),
    case("api sku negative weight", api_sku, "weight", "-1", 400),
    case("api sku negative cost", api_sku, "cost", "-0.01", 400),
    case("api sku huge threshold", api_sku, "low_stock_threshold", INT32, 400),
    # integers beyond the column
    case("api receipt 2^31", api_stock_movement("receipt"), "quantity", INT32, 400),
    case("api adjustment 2^31", api_stock_movement("adjustment"), "quantity", INT32, 400),
    case("api adjustment -2^31", api_stock_movement("adjustment"), "quantity", -INT32, 400),
    case("api count 2^31", api_stock_movement("count"), "quantity", INT32, 400),
    case("page receive 2^31", page_stock_form("receive"), "quantity", str(INT32), 200),
    case("page adjust 2^31", page_stock_form("adjust"), "delta", str(INT32), 200),
    case("page count 2^31", page_stock_form("count"), "counted", str(INT32), 200),
    # filters
    case("api orders ship_by_to 9999", api_query("/api/v1/orders/"), "ship_by_to", "9999-12-31", 400),
    case("api orders placed_to 9999", api_query("/api/v1/orders/"), "placed_to", "9999-12-31", 400),
    case("api orders shipped_to 9999", api_query("/api/v1/orders/"), "shipped_to", "9999-12-31", 400),
    case("api orders ship_by_from 1", api_query("/api/v1/orders/"), "ship_by_from", "0001-01-01", 400),
    case("api counts ship_by_to 9999", api_query("/api/v1/orders/counts/"), "ship_by_to", "9999-12-31", 400),
    case("page orders ship_by_to 9999", page_query("/orders/"), "ship_by_to", "9999-12-31", 200),
    case("page orders placed_to 9999", page_query("/orders/"), "placed_to", "9999-12-31", 200),
    case("page orders shipped_to 9999", page_query("/orders/"), "shipped_to", "9999-12-31", 200),
    case("page batch all matching 9999", page_batch_create, "ship_by_to", "9999-12-31", 302),
    case(
        "api movements since +25:00", api_query("/api/v1/stock-movements/"), "since", "2026-01-01T00:00:00+25:00", 400
    ),
    case(
        "api movements since year 1 +05:00",
        api_query("/api/v1/stock-movements/"),
        "since",
        "0001-01-01T00:00:00+05:00",
        400,
    ),
    case("api audit since +25:00", api_query_as_owner("/api/v1/audit-log/"), "since", "2026-01-01T00:00:00+25:00", 400),
    case(
        "api audit until year 9999", api_query_as_owner("/api/v1/audit-log/"), "until", "9999-12-31T23:59:59-05:00", 400
    ),
    case("page ledger since 9999", page_query("/inventory/ledger/"), "since", "9999-12-31", 200),
    case("page audit until 9999", page_query("/settings/audit/"), "until", "9999-12-31", 200),
    case("page spend end 9999", page_query("/shipping/spend/"), "end", "9999-12-31", 200),
    case("page pickups day 9999", page_query("/shipping/pickups/"), "day", "9999-12-31", 404),
    # ids that are not ids, and NUL
    case("page batch order not a uuid", page_batch_create, "order", "not-a-uuid", 302),
    case("page access member garbage", page_supplier_access, "member", "garbage", 404),
    case("page access warehouse garbage", page_supplier_access, "warehouse", "garbage", 404),
    case("page hand over item zzz", page_handoff, "item", "zzz", 302),
    case("link hand over item zzz", link_handoff, "item", "zzz", 302),
    case("page packing code NUL", page_packing, "code", "a\x00b", 400),
    case("page handoff scan code NUL", page_handoff, "code", "a\x00b", 400),
    case("link handoff scan code NUL", link_handoff, "code", "a\x00b", 400),
    case("page orders q NUL", page_query("/orders/"), "q", "a\x00b", 400),
    case("api orders q NUL", api_query("/api/v1/orders/"), "q", "a\x00b", 400),
    case("api sku id not a uuid", api_unknown("get"), "", "/api/v1/skus/zzz/", 404),
    case("api sku id with NUL", api_unknown("patch"), "", "/api/v1/skus/a%00b/", 404),
    case("api order id with NUL", api_unknown("get"), "", "/api/v1/orders/a%00b/", 404),
    # unknown API paths answer JSON to every method
    case("api unknown POST", api_unknown("post"), "", "/api/v1/nope/", 404),
    case("api unknown PATCH", api_unknown("patch"), "", "/api/v1/orders/x/y/z/", 404),
    case("api unknown PUT no slash", api_unknown("put"), "", "/api/v1/nope", 404),
    # CSV cells
    case("csv weight NaN", CSV_SKUS, "weight", "NaN", ROW_ERROR),
    case("csv weight sNaN", CSV_SKUS, "weight", "sNaN", ROW_ERROR),
    case("csv weight Infinity", CSV_SKUS, "weight", "Infinity", ROW_ERROR),
    case("csv weight 1e30", CSV_SKUS, "weight", "1e30", ROW_ERROR),
    case("csv cost NaN", CSV_SKUS, "cost", "NaN", ROW_ERROR),
    case("csv threshold huge", CSV_SKUS, "low_stock_threshold", str(INT32), ROW_ERROR),
    case("csv threshold 1e30", CSV_SKUS, "low_stock_threshold", "1e30", ROW_ERROR),
    case("csv code over-long", CSV_SKUS, "code", "C" * 101, ROW_ERROR),
    case("csv name NUL", CSV_SKUS, "name", "Mu\x00g", ROW_ERROR),
    case("csv name over 131072 chars", CSV_SKUS, "name", "n" * 131_073, ROW_ERROR),
    case("csv counted 2^31", CSV_STOCK, "counted", str(INT32), ROW_ERROR),
    case("csv counted 1e30", CSV_STOCK, "counted", "1e30", ROW_ERROR),
]


def _state() -> tuple[int, ...]:
    return (
        Order.unscoped.count(),
        Sku.unscoped.count(),
        StockMovement.unscoped.count(),
        HandoffItem.unscoped.filter(handed_over_at__isnull=False).count(),
    )


@pytest.mark.parametrize("bad", CASES)
def test_a_bad_value_is_refused_clearly_and_changes_nothing(world: World, bad: Case) -> None:
    before = _state()
    audit_before = AuditEntry.unscoped.count()
    answer = bad.way_in(world, bad.field, bad.value)
    assert _state() == before, f"{bad}: something was written"
    if bad.expected is DROPPED:
        assert answer is None, f"{bad}: {answer!r} kept"
        return
    if bad.expected == ROW_ERROR:
        for report in answer:
            assert not report.ok, f"{bad}: {report}"
            assert not report.applied
            assert all(error.message for error in report.errors)
        return
    assert answer.status_code == bad.expected, f"{bad}: {answer.status_code} {answer.content[:300]!r}"
    if answer.status_code >= 400 and answer.wsgi_request.path.startswith("/api/"):
        error = answer.json()["error"]  # the one error body (erp/api/exceptions.py)
        assert error["message"]
        if error["type"] == "validation_error":
            assert error["fields"], f"{bad}: no field named"
    if bad.expected == 200 and "text/html" in answer["Content-Type"]:
        shown = (b'class="errors"', b'class="form-errors"', b"Must be", b"At most")
        assert any(marker in answer.content for marker in shown), f"{bad}: no error shown"
    assert AuditEntry.unscoped.count() == audit_before


def test_the_api_answers_djangos_own_errors_in_its_json_body() -> None:
    """A 500 that escapes every view (or a body Django refuses before any view) is still the one error body under
    /api/, and still the dashboard's page elsewhere."""
    factory = RequestFactory()
    api = server_error(factory.get("/api/v1/orders/"))
    assert api.status_code == 500
    assert json.loads(api.content)["error"]["type"] == "server_error"
    page = server_error(factory.get("/orders/"))
    assert page.status_code == 500
    assert "text/html" in page["Content-Type"]


# The positive control: the same doors with a good value do what they are for, so a bad value's "error shown" above
# is the value's, not a form that could never be sent.
CONTROLS = [
    pytest.param(page_warehouse, "country_code", "GB", 302, id="page warehouse"),
    pytest.param(page_sku, "weight", "1.5", 302, id="page sku"),
    pytest.param(page_stock_form("receive"), "quantity", "3", 302, id="page receive"),
    pytest.param(page_stock_form("adjust"), "delta", "-1", 302, id="page adjust"),
    pytest.param(page_stock_form("count"), "counted", "7", 302, id="page count"),
    pytest.param(api_order, "ship_by", "2030-01-01T00:00:00Z", 201, id="api order"),
    pytest.param(api_stock_movement("receipt"), "quantity", 1_000_000, 201, id="api receipt"),
]


@pytest.mark.parametrize(("way_in", "field", "value", "expected"), CONTROLS)
def test_a_good_value_goes_through_the_same_door(
    world: World, way_in: Callable[[World, str, Any], Any], field: str, value: Any, expected: int
) -> None:
    answer = way_in(world, field, value)
    assert answer.status_code == expected, answer.content[:500]
