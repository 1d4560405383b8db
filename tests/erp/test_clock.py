"""One clock (docs/time.md): every time people read is in the organization's zone with the zone named, the same
deadline reads the same on every page, printout and export, and a warehouse's zone comes from its address."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from erp import clock
from erp.actors import Actor
from erp.tenancy import organization_scope
from inventory import services as inventory_services
from inventory.models import Warehouse, WarehouseKind
from shipping import handoffs
from shipping.documents.pick_list import pick_list_pdf
from shipping.labels.documents import batch_documents_input
from shipping.models import LabelBatch, LabelPurchase, PurchaseState
from shipping.tasks import handoffs_alert_unacknowledged
from tests.factories import (
    LabelBatchFactory,
    LabelPurchaseFactory,
    OrderFactory,
    OrderLineFactory,
    WarehouseFactory,
)
from tests.shipping.batches import label_pdf

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
SHIP_BY = datetime(2026, 12, 4, 23, 24, tzinfo=UTC)  # 17:24 in Chicago (CST)
SHIP_BY_TEXT = "Dec 4, 17:24 CST"


def _bought(tenant: Any, batch: LabelBatch, warehouse: Warehouse, tracking: str) -> LabelPurchase:
    org = tenant.organization
    order = OrderFactory(organization=org, warehouse=warehouse, ship_by=SHIP_BY, external_id=f"5764{tracking[-6:]}")
    OrderLineFactory(organization=org, order=order)
    purchase = LabelPurchaseFactory(
        organization=org,
        order=order,
        batch=batch,
        state=PurchaseState.PURCHASED,
        tracking_number=tracking,
        purchased_at=timezone.now() - timedelta(hours=1),
    )
    with organization_scope(org):
        pdf = label_pdf(order.external_id, tracking, "Dana Kim", [])
        purchase.label_pdf.save(f"{tracking}.pdf", ContentFile(pdf), save=True)
    return purchase


@pytest.fixture
def chicago(tenant: Any) -> dict[str, Any]:
    """A Chicago organization; one batch with an order at its own warehouse and one at a supplier, same ship-by."""
    tenant.organization.time_zone = "America/Chicago"
    tenant.organization.save(update_fields=["time_zone"])
    org = tenant.organization
    own = WarehouseFactory(organization=org, name="Dallas DC", kind=WarehouseKind.OWN, state="TX", time_zone="")
    supplier = WarehouseFactory(organization=org, name="Candle Supply Co", kind=WarehouseKind.SUPPLIER)
    batch = LabelBatchFactory(organization=org)
    own_purchase = _bought(tenant, batch, own, "9400111000000000000001")
    supplier_purchase = _bought(tenant, batch, supplier, "9400111000000000000002")
    with organization_scope(org):
        (handoff,) = handoffs.handoffs_for_batch(batch=batch)
    return {
        "batch": batch,
        "own": own_purchase,
        "supplier": supplier_purchase,
        "handoff": handoff,
        "org": org,
        "warehouse": own,
    }


def _pdf_text(content: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages)


# ------------------------------------------------------------------------------------------- one deadline, one text
def test_the_same_ship_by_reads_the_same_on_pages_printouts_and_the_csv(tenant: Any, chicago: dict[str, Any]) -> None:
    batch, handoff = chicago["batch"], chicago["handoff"]
    order_page = tenant.client.get(f"/orders/{chicago['supplier'].order_id}/").content.decode()
    batch_page = tenant.client.get(f"/shipping/batches/{batch.pk}/").content.decode()
    handoff_page = tenant.client.get(f"/shipping/handoffs/{handoff.pk}/").content.decode()
    assert SHIP_BY_TEXT in order_page
    assert SHIP_BY_TEXT in batch_page
    assert SHIP_BY_TEXT in handoff_page

    pick_list = _pdf_text(tenant.client.get(f"/shipping/batches/{batch.pk}/pick-list.pdf").content)
    assert f"Earliest ship-by {SHIP_BY_TEXT}" in pick_list
    printed = re.search(r"Printed (\w{3} \d{1,2}, \d{2}:\d{2} \w+)", pick_list)
    assert printed is not None
    assert printed.group(1).endswith(" CST")  # printed and ship-by in one zone, never PST beside UTC

    with organization_scope(chicago["org"]):
        link = handoffs.handoff_link_create(handoff=handoff, actor=Actor.for_user(tenant.owner))
        token = handoffs.handoff_link_token(link)
    link = reverse("handoff_link", kwargs={"token": token})
    supplier_pick_list = _pdf_text(tenant.client.get(link, {"document": "pick-list"}).content)
    assert f"Earliest ship-by {SHIP_BY_TEXT}" in supplier_pick_list
    assert SHIP_BY_TEXT in tenant.client.get(link).content.decode()  # the supplier's page, without an account

    rows = list(csv.DictReader(io.StringIO(tenant.client.get("/shipping/spend.csv").content.decode())))
    assert {row["ship_by (America/Chicago)"] for row in rows} == {"2026-12-04T17:24:00-06:00"}
    bought_at = datetime.fromisoformat(rows[0]["first_label_bought_at (America/Chicago)"])
    assert bought_at.utcoffset() == timedelta(hours=-6)


def test_a_worker_writes_printouts_and_emails_in_the_organization_zone_not_the_active_one(
    tenant: Any, chicago: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    """A Celery worker has no request: what it writes names the organization's zone, whatever zone is active."""
    with timezone.override(ZoneInfo("UTC")), organization_scope(chicago["org"]):
        orders = batch_documents_input(chicago["batch"], warehouse=chicago["warehouse"])
        pdf = pick_list_pdf(orders, batch_ref="B-1", warehouse_name="Dallas DC", printed_at=timezone.now())
        assert f"Earliest ship-by {SHIP_BY_TEXT}" in _pdf_text(pdf)
        assert "UTC" not in _pdf_text(pdf)

    handoff = chicago["handoff"]
    type(handoff).unscoped.filter(pk=handoff.pk).update(created_at=datetime(2026, 1, 15, 15, 5, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        assert handoffs_alert_unacknowledged.delay().get() == 1
    (email,) = mail.outbox
    assert "at Jan 15, 09:05 CST and has not acknowledged" in email.body


# ----------------------------------------------------------------------------------------------- the helper itself
def test_format_local_always_names_the_zone() -> None:
    assert clock.format_local(SHIP_BY, CHICAGO) == "Dec 4, 17:24 CST"
    assert clock.format_local(SHIP_BY, ZoneInfo("America/Los_Angeles")) == "Dec 4, 15:24 PST"
    assert clock.format_local(datetime(2026, 7, 4, 16, 0, tzinfo=UTC), CHICAGO, "year") == "Jul 4, 2026 11:00 CDT"
    assert clock.format_local(SHIP_BY, ZoneInfo("America/Sao_Paulo")) == "Dec 4, 20:24 UTC-03"
    assert clock.format_local(None, CHICAGO) == "—"
    assert clock.format_iso(SHIP_BY, CHICAGO) == "2026-12-04T17:24:00-06:00"
    assert clock.format_clock_time(time(17, 0), CHICAGO, on=SHIP_BY.date()) == "17:00 CST"


def test_templates_use_the_organization_zone_in_scope(tenant: Any) -> None:
    tenant.organization.time_zone = "America/Chicago"
    template = Template('{% load clock %}{{ at|local }} · {{ at|local:"seconds" }} · {{ missing|local }}')
    with timezone.override(ZoneInfo("UTC")), organization_scope(tenant.organization):
        text = template.render(Context({"at": SHIP_BY, "missing": None}))
    assert text == "Dec 4, 17:24 CST · Dec 4, 17:24:00 CST · —"


# ------------------------------------------------------------------------------------ a warehouse's zone by address
@pytest.mark.parametrize(
    ("country", "state", "zone"),
    [
        ("US", "TX", "America/Chicago"),
        ("US", "Texas", "America/Chicago"),
        ("us", "ny", "America/New_York"),
        ("US", "AZ", "America/Phoenix"),
        ("US", "Hawaii", "Pacific/Honolulu"),
        ("US", "D.C.", "America/New_York"),
        ("PR", "", "America/Puerto_Rico"),
        ("US", "GU", "Pacific/Guam"),
        ("CA", "BC", "America/Vancouver"),
        ("CA", "Québec", "America/Toronto"),
        ("GB", "", "Europe/London"),
        ("DE", "Bayern", "Europe/Berlin"),
        ("MX", "Jalisco", "America/Mexico_City"),
        ("US", "", None),
        ("BR", "SP", None),
    ],
)
def test_zone_for_address(country: str, state: str, zone: str | None) -> None:
    assert clock.zone_for_address(country, state) == zone


def test_every_us_state_dc_and_territory_has_a_real_zone() -> None:
    states = set(clock.US_STATE_ZONES) - {"PR", "VI", "GU", "MP", "AS", "UM"}
    assert len(states) == 51  # 50 states and DC
    for name in [*clock.US_STATE_ZONES.values(), *clock.CA_PROVINCE_ZONES.values(), *clock.COUNTRY_ZONES.values()]:
        ZoneInfo(name)


WAREHOUSE_FORM = {
    "name": "Dallas DC",
    "code": "DAL",
    "kind": "own",
    "is_active": "on",
    "tracks_stock": "on",
    "sender_name": "Acme Fulfilment",
    "address_line1": "2000 Commerce St",
    "city": "Dallas",
    "state": "TX",
    "postal_code": "75201",
    "country_code": "US",
    "cutoff_time": "14:00",
    "time_zone": "",
    "working_days": ["1", "2", "3", "4", "5"],
}


def test_a_dallas_warehouse_gets_chicago_time_not_the_organization_zone(tenant: Any) -> None:
    assert tenant.organization.time_zone == "America/Los_Angeles"
    form = tenant.client.get("/inventory/warehouses/new/").content.decode()
    assert '<option value="" selected>From the address</option>' in form
    assert tenant.client.post("/inventory/warehouses/new/", WAREHOUSE_FORM).status_code == 302
    with organization_scope(tenant.organization):
        warehouse = Warehouse.objects.get(name="Dallas DC")
    assert warehouse.time_zone == "America/Chicago"
    assert re.search(r"14:00 C[SD]T", tenant.client.get("/inventory/warehouses/").content.decode())
    detail = tenant.client.get(f"/inventory/warehouses/{warehouse.pk}/").content.decode()
    assert '<option value="America/Chicago" selected>' in detail

    # Moving it to Reno moves a zone nobody chose; a zone chosen explicitly stays when the address changes.
    moved = WAREHOUSE_FORM | {"city": "Reno", "state": "NV", "time_zone": "America/Chicago"}
    assert tenant.client.post(f"/inventory/warehouses/{warehouse.pk}/", moved).status_code == 302
    warehouse.refresh_from_db()
    assert warehouse.time_zone == "America/Los_Angeles"
    chosen = moved | {"time_zone": "America/Denver"}
    assert tenant.client.post(f"/inventory/warehouses/{warehouse.pk}/", chosen).status_code == 302
    back = chosen | {"city": "Dallas", "state": "TX"}
    assert tenant.client.post(f"/inventory/warehouses/{warehouse.pk}/", back).status_code == 302
    warehouse.refresh_from_db()
    assert warehouse.time_zone == "America/Denver"


def test_warehouse_save_defaults_from_the_address_else_the_organization(tenant: Any) -> None:
    actor = Actor.for_user(tenant.owner)
    with organization_scope(tenant.organization):
        london = inventory_services.warehouse_save(actor=actor, fields={"name": "London", "country_code": "GB"})
        nowhere = inventory_services.warehouse_save(actor=actor, fields={"name": "Somewhere", "country_code": "BR"})
        chosen = inventory_services.warehouse_save(
            actor=actor, fields={"name": "Chosen", "state": "TX", "time_zone": "Asia/Tokyo"}
        )
    assert london.time_zone == "Europe/London"
    assert nowhere.time_zone == "America/Los_Angeles"  # the organization's
    assert chosen.time_zone == "Asia/Tokyo"
    unsaved = Warehouse(organization=tenant.organization, state="Texas", time_zone="")
    with organization_scope(tenant.organization):
        assert clock.warehouse_zone(unsaved).key == "America/Chicago"  # a blank zone reads from the address too


# --------------------------------------------------------------------------------- no bare time on any main page
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s*[–-]\s*\d{1,2}:\d{2})?")
_ZONE = re.compile(r"\s*\(?(?:[A-Z]{2,5}|UTC[+-]\d{2}(?::?\d{2})?)\b")


class _Text(HTMLParser):
    """The text a person reads: no tags, attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "template"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def bare_times(html: str) -> list[str]:
    """Every time-looking string not followed by a zone abbreviation, with a little context. An example of what a
    person types ("e.g. Mon–Fri 8:00–17:00", the free-text working hours) is not a time shown."""
    parser = _Text()
    parser.feed(html)
    text = " ".join(" ".join(parser.parts).split())
    return [
        text[max(m.start() - 30, 0) : m.end() + 10]
        for m in _TIME.finditer(text)
        if not _ZONE.match(text, m.end()) and "e.g." not in text[max(m.start() - 20, 0) : m.start()]
    ]


def test_no_main_page_shows_a_time_without_its_zone(tenant: Any, chicago: dict[str, Any]) -> None:
    own_order = chicago["own"].order
    warehouse = own_order.warehouse
    Warehouse.unscoped.filter(pk=warehouse.pk).update(cutoff_time=time(14, 0))
    pages = [
        "/",
        "/orders/",
        f"/orders/{own_order.pk}/",
        f"/orders/{chicago['supplier'].order_id}/",
        "/shipping/",
        f"/shipping/batches/{chicago['batch'].pk}/",
        "/shipping/handoffs/",
        f"/shipping/handoffs/{chicago['handoff'].pk}/",
        "/shipping/at-risk/",
        "/shipping/pickups/",
        "/shipping/spend/",
        "/shipping/compliance/",
        "/inventory/warehouses/",
        f"/inventory/warehouses/{warehouse.pk}/",
        "/inventory/ledger/",
        "/settings/audit/",
    ]
    found = {}
    for url in pages:
        response = tenant.client.get(url)
        assert response.status_code == 200, url
        bare = bare_times(response.content.decode())
        if bare:
            found[url] = bare
    assert found == {}


@pytest.mark.parametrize(
    ("moment", "zone", "expected"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), "Pacific/Honolulu", "Jan 1, 0001 00:00 UTC"),  # year 0 in Honolulu
        (datetime(9999, 12, 31, 23, 0, tzinfo=UTC), "Pacific/Kiritimati", "Dec 31, 9999 23:00 UTC"),  # year 10000
        (datetime(9999, 12, 31, 23, 0, tzinfo=UTC), "America/Chicago", "Dec 31, 9999 17:00 CST"),
    ],
)
def test_a_stored_extreme_moment_is_written_not_raised(moment: datetime, zone: str, expected: str) -> None:
    """docs/adr/0014: what is stored renders; past the zone's range it is shown in UTC, with its year."""
    assert clock.format_local(moment, ZoneInfo(zone)) == expected
    assert clock.format_iso(moment, ZoneInfo(zone)).startswith(f"{moment.year:04d}-")
    rendered = Template("{% load clock %}{{ m|local }}|{{ m|iso }}|{{ m|local_day }}").render(Context({"m": moment}))
    assert f"{moment.year:04d}" in rendered
