"""Collections by TikTok: the handover an order gets, the pickup slot chosen among TikTok's offer, which packages the
truck takes on a day, and the manifest PDF the warehouse and the driver sign."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from pypdf import PdfReader

from erp.roles import Role
from erp.tenancy import organization_scope
from integrations.interface import HandoverOptions, TimeSlot
from integrations.models import Store
from integrations.services import store_label_provider
from inventory.models import Warehouse, WarehouseKind
from orders.models import OrderStatus
from shipping import pickup
from shipping.documents.pickup_manifest import pickup_manifest_pdf
from shipping.models import PurchaseState
from shipping.rules.schema import Actions
from tests.factories import LabelPurchaseFactory, OrderFactory, WarehouseFactory
from tests.shipping.test_labels import execute, request, shippable

LA = ZoneInfo("America/Los_Angeles")


def slot(day: date, start: int, end: int, *, available: bool | None = True, zone: Any = UTC) -> TimeSlot:
    return TimeSlot(
        start=datetime.combine(day, time(start), tzinfo=zone),
        end=datetime.combine(day, time(end), tzinfo=zone),
        available=available,
    )


def options(*slots: TimeSlot, can_pickup: bool = True) -> HandoverOptions:
    return HandoverOptions(
        can_pickup=can_pickup, can_drop_off=True, can_van_collection=False, drop_off_point_url="", pickup_slots=slots
    )


# ------------------------------------------------------------------------------------------------- handover
@pytest.mark.django_db
def test_an_order_at_a_cbt_warehouse_is_handed_over_by_pickup_unless_a_rule_says_otherwise(tenant: Any) -> None:
    org = tenant.organization
    cbt = WarehouseFactory(organization=org, name="Reno CBT", collections_by_tiktok=True)
    own = WarehouseFactory(organization=org, name="Garage")
    with organization_scope(org):
        at_cbt = OrderFactory(organization=org, warehouse=cbt)
        at_own = OrderFactory(organization=org, warehouse=own)
        unrouted = OrderFactory(organization=org, warehouse=None)

        assert pickup.handover_for(at_cbt) == pickup.Handover("PICKUP", "Reno CBT is on Collections by TikTok")
        assert pickup.handover_for(at_own).method is None
        assert pickup.handover_for(unrouted).method is None
        drop = Actions(handover_method="DROP_OFF")
        assert pickup.handover_for(at_cbt, drop) == pickup.Handover("DROP_OFF", "the logistics rule says so")
        morning = Actions(handover_method="PICKUP", pickup_slot="morning")
        assert pickup.handover_for(at_own, morning) == pickup.Handover(
            "PICKUP", "the logistics rule says so", "morning"
        )
        assert pickup.handover_for(at_cbt, Actions()).method == "PICKUP"  # a rule without a handover changes nothing


# ------------------------------------------------------------------------------------------------- slot choice
TOMORROW = date(2026, 11, 26)


def test_the_first_available_slot_is_chosen_skipping_unavailable_and_startless_ones() -> None:
    full = slot(TOMORROW, 9, 12, available=False)
    startless = TimeSlot(start=None, end=None, available=True)
    unknown = slot(TOMORROW, 13, 17, available=None)  # no "avaliable" flag at all: offered, so usable
    chosen, why = pickup.pickup_slot_choose(options(full, startless, unknown))
    assert (chosen, why) == (unknown, "first available pickup slot")
    assert pickup.pickup_slot_choose(options(full)) == (None, "TikTok offered no available pickup slot")
    assert pickup.pickup_slot_choose(options(unknown, can_pickup=False)) == (
        None,
        "TikTok offers no pickup for this package",
    )


@pytest.mark.parametrize(
    ("preference", "expected_hour", "why"),
    [
        ("morning", 9, "first available morning slot"),
        ("Afternoon", 13, "first available Afternoon slot"),
        ("evening", 18, "first available evening slot"),
        ("13:00", 13, "first available 13:00 slot"),
        ("14:00-19:00", 18, "first available 14:00-19:00 slot"),
        ("8 to 10", 9, "first available 8 to 10 slot"),
        ("06:00", 9, "no 06:00 slot offered: took the first available one"),
        ("whenever", 9, "“whenever” is not a time Dropline reads: took the first available slot"),
        ("25:00", 9, "“25:00” is not a time Dropline reads: took the first available slot"),
    ],
)
def test_a_rules_preference_is_read_in_the_warehouses_time_zone(preference: str, expected_hour: int, why: str) -> None:
    offered = [slot(TOMORROW, h, h + 3, zone=LA) for h in (9, 13, 18)]
    offered.insert(0, slot(TOMORROW, 13, 16, available=False, zone=LA))  # the wanted one, but full
    chosen, reason = pickup.pickup_slot_choose(
        options(*offered), preference=preference, time_zone="America/Los_Angeles"
    )
    assert chosen is not None
    assert chosen.start.astimezone(LA).hour == expected_hour
    assert reason == why


def test_the_same_slots_read_in_another_zone_choose_differently() -> None:
    # 17:00 UTC is 09:00 in Los Angeles: "afternoon" there is the 21:00 UTC slot.
    offered = options(slot(TOMORROW, 17, 20), slot(TOMORROW, 21, 23))
    in_la, _ = pickup.pickup_slot_choose(offered, preference="afternoon", time_zone="America/Los_Angeles")
    in_utc, _ = pickup.pickup_slot_choose(offered, preference="afternoon", time_zone="UTC")
    assert in_la is not None
    assert in_la.start.hour == 21
    assert in_utc is not None
    assert in_utc.start.hour == 17


@pytest.mark.django_db
def test_pickup_slot_for_reads_the_packages_slots_from_the_sandbox(tenant: Any, tiktok: Any) -> None:
    tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    world = tiktok.sandbox.world
    package = next(p for p in world.packages.values() if p.shop_id == store.external_id)
    now = tiktok.sandbox.clock.now()
    day0 = now - now % 86400  # the sandbox offers 09-12 and 13-17 UTC on each of the next three days (its docs)
    with organization_scope(tenant.organization):
        provider = store_label_provider(store)
        first, why = pickup.pickup_slot_for(provider=provider, package_id=package.id)
        afternoon, _ = pickup.pickup_slot_for(
            provider=provider, package_id=package.id, preference="afternoon", time_zone="UTC"
        )
    assert why == "first available pickup slot"
    assert first is not None
    assert afternoon is not None
    assert int(first.start.timestamp()) == day0 + 86400 + 9 * 3600
    assert int(first.end.timestamp()) == day0 + 86400 + 12 * 3600
    assert int(afternoon.start.timestamp()) == day0 + 86400 + 13 * 3600


# ------------------------------------------------------------------------------------------------- pickup day
def _warehouse(**fields: Any) -> Warehouse:
    base = {"name": "W", "time_zone": "America/Los_Angeles", "working_days": "12345", "cutoff_time": time(14)}
    return Warehouse(**{**base, **fields})


def test_the_pickup_day_is_the_slots_day_else_the_purchase_day_within_cutoff_and_working_days() -> None:
    warehouse = _warehouse()
    wednesday = date(2026, 11, 25)
    at = lambda day, hour: datetime.combine(day, time(hour), tzinfo=LA)  # noqa: E731
    # A booked slot decides, in the warehouse's zone (01:00 UTC Thursday is Wednesday evening in LA).
    late_utc = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    assert pickup.pickup_day(warehouse=warehouse, slot_start=late_utc, purchased_at=at(wednesday, 9)) == wednesday
    # No slot: bought before the cut-off → that day; after → the next working day.
    assert pickup.pickup_day(warehouse=warehouse, slot_start=None, purchased_at=at(wednesday, 13)) == wednesday
    assert pickup.pickup_day(warehouse=warehouse, slot_start=None, purchased_at=at(wednesday, 15)) == date(2026, 11, 26)
    friday, monday = date(2026, 11, 27), date(2026, 11, 30)
    assert pickup.pickup_day(warehouse=warehouse, slot_start=None, purchased_at=at(friday, 16)) == monday
    assert pickup.pickup_day(warehouse=warehouse, slot_start=None, purchased_at=at(date(2026, 11, 28), 9)) == monday
    # A warehouse working Saturdays, without a cut-off.
    six_days = _warehouse(working_days="123456", cutoff_time=None)
    assert pickup.pickup_day(warehouse=six_days, slot_start=None, purchased_at=at(friday, 23)) == friday
    assert pickup.pickup_day(warehouse=six_days, slot_start=None, purchased_at=at(date(2026, 11, 29), 9)) == monday


# ------------------------------------------------------------------------------------------------- manifest
DAY = date(2026, 11, 25)  # a Wednesday


def _bought(
    org: Any,
    warehouse: Warehouse,
    *,
    at: datetime,
    carrier: str,
    tracking: str,
    units: int = 1,
    status: str = OrderStatus.AWAITING_COLLECTION,
    handover: str = "",
    slot: tuple[datetime, datetime] | None = None,
) -> Any:
    """A label bought at `at` for an order routed to `warehouse` (with the handover and slot it booked, if any)."""
    row = OrderFactory(organization=org, warehouse=warehouse, status=status, unit_count=units)
    return LabelPurchaseFactory(
        organization=org,
        order=row,
        state=PurchaseState.PURCHASED,
        package_id=f"1152{row.external_id[-12:]}",
        tracking_number=tracking,
        carrier_name=carrier,
        line_ids=[f"{row.external_id}-{n}" for n in range(units)],
        purchased_at=at,
        handover_method=handover,
        pickup_start=slot[0] if slot else None,
        pickup_end=slot[1] if slot else None,
    )


@pytest.fixture
def reno(tenant: Any) -> dict[str, Any]:
    """A CBT warehouse with packages bought around DAY, and some that must stay off its manifest."""
    org = tenant.organization
    cbt = WarehouseFactory(
        organization=org,
        name="Reno CBT",
        code="RNO",
        collections_by_tiktok=True,
        time_zone="America/Los_Angeles",
        cutoff_time=time(14),
        working_days="12345",
    )
    other = WarehouseFactory(organization=org, name="Garage", collections_by_tiktok=False)
    at = lambda day, hour: datetime.combine(day, time(hour), tzinfo=LA)  # noqa: E731
    morning = (at(DAY, 9), at(DAY, 12))
    due = [
        _bought(org, cbt, at=at(DAY, 9), carrier="USPS", tracking="9400111899223000000001"),
        _bought(org, cbt, at=at(DAY, 13), carrier="UPS", tracking="1Z999AA10000000002", units=2),
        _bought(org, cbt, at=at(DAY - timedelta(days=1), 15), carrier="USPS", tracking="9400111899223000000003"),
        _bought(org, cbt, at=at(DAY, 10), carrier="", tracking=""),  # bought, carrier and tracking not known yet
        # Bought Monday before the cut-off, but the slot booked is Wednesday morning: the slot decides.
        _bought(
            org,
            cbt,
            at=at(DAY - timedelta(days=2), 9),
            carrier="FedEx",
            tracking="7712",
            handover="PICKUP",
            slot=morning,
        ),
    ]
    off = [
        _bought(org, cbt, at=at(DAY, 15), carrier="UPS", tracking="1Z-AFTER-CUTOFF"),  # tomorrow's truck
        _bought(org, cbt, at=at(DAY - timedelta(days=1), 9), carrier="UPS", tracking="1Z-YESTERDAY"),
        _bought(org, cbt, at=at(DAY, 9), carrier="UPS", tracking="1Z-CANCELLED", status=OrderStatus.CANCELLED),
        _bought(org, other, at=at(DAY, 9), carrier="UPS", tracking="1Z-OTHER-WAREHOUSE"),
        _bought(org, cbt, at=at(DAY, 9), carrier="UPS", tracking="1Z-DROP-OFF", handover="DROP_OFF"),  # rule: counter
        _bought(  # bought today, truck booked for tomorrow
            org,
            cbt,
            at=at(DAY, 9),
            carrier="UPS",
            tracking="1Z-SLOT-TOMORROW",
            handover="PICKUP",
            slot=(at(DAY + timedelta(days=1), 13), at(DAY + timedelta(days=1), 17)),
        ),
    ]
    # A rule asked for the truck at a warehouse not on CBT: that one package is the Garage's pickup.
    ruled = _bought(org, other, at=at(DAY, 11), carrier="UPS", tracking="1Z-RULED-PICKUP", handover="PICKUP")
    failed = _bought(org, cbt, at=at(DAY, 9), carrier="UPS", tracking="1Z-FAILED")
    type(failed).unscoped.filter(pk=failed.pk).update(state=PurchaseState.FAILED)
    off.append(failed)
    return {"warehouse": cbt, "other": other, "due": due, "off": off, "ruled": ruled, "morning": morning}


@pytest.mark.django_db
def test_the_days_manifest_holds_exactly_the_packages_the_truck_takes(tenant: Any, reno: dict[str, Any]) -> None:
    with organization_scope(tenant.organization):
        manifest = pickup.pickup_manifest(warehouse=reno["warehouse"], day=DAY)
        assert {p.order_ref for p in manifest.packages} == {p.order.external_id for p in reno["due"]}
        assert manifest.total == 5
        assert manifest.units == 6  # one package holds two units
        assert manifest.per_carrier == [("USPS", 2), ("Carrier not known", 1), ("FedEx", 1), ("UPS", 1)]
        assert manifest.slots == [reno["morning"]]
        assert manifest.unbooked == 4
        assert manifest.packages[0].tracking_number == "7712"  # booked slots first, earliest first
        assert manifest.collections_by_tiktok
        assert manifest.address == "100 Industrial Way, Reno, Nevada 89502, US"
        tomorrow = pickup.pickup_manifest(warehouse=reno["warehouse"], day=DAY + timedelta(days=1))
        assert {p.tracking_number for p in tomorrow.packages} == {"1Z-AFTER-CUTOFF", "1Z-SLOT-TOMORROW"}
        # A warehouse not on CBT has only the pickups a rule booked.
        garage = pickup.pickup_manifest(warehouse=reno["other"], day=DAY)
        assert [p.tracking_number for p in garage.packages] == ["1Z-RULED-PICKUP"]
        assert not garage.collections_by_tiktok


@pytest.mark.django_db
def test_the_manifest_pdf_shows_what_the_driver_and_the_warehouse_check(tenant: Any, reno: dict[str, Any]) -> None:
    with organization_scope(tenant.organization):
        manifest = pickup.pickup_manifest(warehouse=reno["warehouse"], day=DAY)
    pdf = pickup_manifest_pdf(manifest, printed_at=datetime(2026, 11, 25, 16, 0, tzinfo=UTC))
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "PICKUP MANIFEST" in text
    assert "Collections by TikTok" in text
    assert "Reno CBT (RNO)" in text
    assert "Pickup day: Wednesday 25 November 2026" in text
    assert "PM-RNO-20261125" in text
    for package in reno["due"]:
        assert package.order.external_id in text
        if package.tracking_number:
            assert package.tracking_number in text
    for package in reno["off"]:
        assert package.order.external_id not in text
    assert "(no tracking number yet)" in text
    assert re.search(r"TOTAL PACKAGES\s*5", text)
    assert re.search(r"USPS\s*2", text)
    assert re.search(r"Total\s*5", text)
    assert "Pickup slot(s): 09:00–12:00" in text
    assert "Packages handed to the driver: ________ of 5" in text
    assert "TikTok driver" in text
    assert "Warehouse" in text
    assert text.count("Signature") == 2
    assert "Page 1 of 1" in text


def test_a_long_manifest_runs_over_pages_with_every_package_once() -> None:
    start = datetime(2026, 11, 25, 17, tzinfo=UTC)
    packages = tuple(
        pickup.ManifestPackage(
            order_ref=f"5764{n:014d}",
            package_id=f"1152{n:015d}",
            tracking_number=f"9400111899223{n:09d}",
            carrier=("USPS", "UPS", "FedEx")[n % 3],
            units=1,
            slot_start=start,
            slot_end=start + timedelta(hours=3),
        )
        for n in range(75)
    )
    manifest = pickup.PickupManifest(
        warehouse_name="Reno CBT",
        warehouse_code="RNO",
        address="",
        collections_by_tiktok=True,
        day=DAY,
        time_zone="America/Los_Angeles",
        packages=packages,
    )
    reader = PdfReader(io.BytesIO(pickup_manifest_pdf(manifest, printed_at=start, paper="A4")))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) >= 3
    text = "\n".join(pages)
    for package in packages:
        assert text.count(package.order_ref) == 1
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]
    assert "Packages handed to the driver" in pages[-1]
    assert "09:00–12:00" in pages[0]  # 17:00 UTC in Los Angeles
    assert sum("Order / package" in page for page in pages) >= len(pages) - 1  # the header repeats


def test_an_empty_day_says_so() -> None:
    manifest = pickup.PickupManifest("Reno CBT", "", "", True, DAY, "UTC", ())
    text = PdfReader(io.BytesIO(pickup_manifest_pdf(manifest, printed_at=datetime.now(tz=UTC)))).pages[0]
    body = text.extract_text()
    assert "No packages for pickup at this warehouse on this day." in body
    assert "of 0" in body


# ------------------------------------------------------------------------------------------------- screens
@pytest.mark.django_db
def test_the_warehouse_downloads_the_manifest_of_a_chosen_day(tenant: Any, reno: dict[str, Any]) -> None:
    warehouse = reno["warehouse"]
    client = tenant.client_as(Role.WAREHOUSE)
    response = client.get(f"/shipping/pickups/{warehouse.pk}/manifest.pdf", {"day": "2026-11-25"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="PM-RNO-20261125.pdf"' in response["Content-Disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert all(p.order.external_id in text for p in reno["due"])
    # Without a day: today where the warehouse is.
    today = timezone.now().astimezone(LA).date()
    response = client.get(f"/shipping/pickups/{warehouse.pk}/manifest.pdf")
    assert f"PM-RNO-{today:%Y%m%d}" in response["Content-Disposition"]
    assert client.get(f"/shipping/pickups/{warehouse.pk}/manifest.pdf", {"day": "tomorrow"}).status_code == 404
    assert tenant.client_as(Role.VIEWER).get(f"/shipping/pickups/{warehouse.pk}/manifest.pdf").status_code == 403
    fbt = WarehouseFactory(
        organization=tenant.organization, name="TikTok FBT", kind=WarehouseKind.PLATFORM, platform="tiktok"
    )
    assert client.get(f"/shipping/pickups/{fbt.pk}/manifest.pdf").status_code == 404


@pytest.mark.django_db
def test_the_pickups_page_lists_cbt_warehouses_with_the_days_count(tenant: Any, reno: dict[str, Any]) -> None:
    body = tenant.client.get("/shipping/pickups/", {"day": "2026-11-25"}).content.decode()
    assert "Reno CBT" in body
    assert "Garage" not in body  # not on Collections by TikTok
    assert re.search(r"<strong data-count>5</strong>", body)
    assert f"/shipping/pickups/{reno['warehouse'].pk}/manifest.pdf?day=2026-11-25" in body
    assert "USPS 2" in body
    detail = tenant.client.get(f"/inventory/warehouses/{reno['warehouse'].pk}/").content.decode()
    assert f"/shipping/pickups/{reno['warehouse'].pk}/manifest.pdf" in detail
    assert "/shipping/pickups/" in tenant.client.get("/shipping/").content.decode()


@pytest.mark.django_db
def test_without_a_cbt_warehouse_the_page_says_how_to_get_one(tenant: Any) -> None:
    body = tenant.client.get("/shipping/pickups/").content.decode()
    assert "No Collections by TikTok warehouse" in body


@pytest.mark.django_db
def test_a_label_bought_for_a_cbt_order_is_on_the_manifest_of_its_slots_day(
    tenant: Any, tiktok: Any, connected_store: Store
) -> None:
    # Through the real purchase (shipping.labels.purchase books the pickup window after buying) and the sandbox's slots.
    store = connected_store
    with organization_scope(tenant.organization):
        cbt = WarehouseFactory(
            organization=tenant.organization, name="Ontario CBT", collections_by_tiktok=True, time_zone="UTC"
        )
    order = shippable(store)[0]
    order.warehouse = cbt
    order.save(update_fields=["warehouse"])
    purchase = request(store, order)
    execute(store, purchase)
    purchase.refresh_from_db()
    assert purchase.state == PurchaseState.PURCHASED
    now = tiktok.sandbox.clock.now()
    slot_day = datetime.fromtimestamp(now - now % 86400 + 86400, tz=UTC).date()  # the sandbox's first slot: tomorrow
    with organization_scope(tenant.organization):
        (package,) = pickup.pickup_manifest(warehouse=cbt, day=slot_day).packages
        assert pickup.pickup_manifest(warehouse=cbt, day=slot_day - timedelta(days=1)).packages == ()
    assert package.order_ref == order.external_id
    assert package.package_id == purchase.package_id
    assert (package.slot_start, package.slot_end) == (purchase.pickup_start, purchase.pickup_end)
    assert package.slot_start.hour == 9
