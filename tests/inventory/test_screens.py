"""Inventory screens: stock changes go through the services (and show their refusals), listings are mapped inline,
CSV files are checked then applied, lists filter and stay cheap, and read-only roles see but cannot change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.actors import Actor
from erp.ids import uuid7
from erp.models import AuditEntry
from erp.roles import Role
from erp.tenancy import organization_scope
from integrations.models import Platform, Store
from inventory import services
from inventory.models import (
    Listing,
    MovementKind,
    Sku,
    StockLevel,
    StockMovement,
    Warehouse,
    WarehouseKind,
    WarehouseLink,
)
from tests.factories import ListingFactory, SkuFactory, StoreFactory, WarehouseFactory, WarehouseLinkFactory

pytestmark = pytest.mark.django_db


@dataclass
class Stock:
    warehouse: Warehouse
    other: Warehouse
    sku: Sku


@pytest.fixture
def stock(tenant: Any) -> Stock:
    organization = tenant.organization
    return Stock(
        warehouse=WarehouseFactory(organization=organization, name="Reno", code="RNO"),
        other=WarehouseFactory(organization=organization, name="Austin 3PL", kind=WarehouseKind.THREE_PL),
        sku=SkuFactory(organization=organization, code="TEE-RED-L", name="Red tee, large", barcode="0123456789"),
    )


def _receive(tenant: Any, sku: Sku, warehouse: Warehouse, quantity: int) -> None:
    with organization_scope(tenant.organization):
        services.stock_receive(sku=sku, warehouse=warehouse, quantity=quantity, actor=Actor.system())


def _level(tenant: Any, sku: Sku, warehouse: Warehouse) -> StockLevel | None:
    with organization_scope(tenant.organization):
        return StockLevel.objects.filter(sku=sku, warehouse=warehouse).first()


def _movements(tenant: Any, **filters: Any) -> list[StockMovement]:
    with organization_scope(tenant.organization):
        return list(StockMovement.objects.filter(**filters).order_by("created_at", "id"))


# -------------------------------------------------------------------------------------------------- SKU list
def test_sku_list_shows_totals_across_warehouses_and_flags_low_stock(tenant: Any, stock: Stock) -> None:
    _receive(tenant, stock.sku, stock.warehouse, 7)
    _receive(tenant, stock.sku, stock.other, 2)
    plenty = SkuFactory(organization=tenant.organization, code="MUG-BLUE", low_stock_threshold=5)
    _receive(tenant, plenty, stock.warehouse, 50)
    with organization_scope(tenant.organization):
        Sku.objects.filter(pk=stock.sku.pk).update(low_stock_threshold=10)

    page = tenant.client.get("/inventory/").content.decode()
    row = page.split('data-sku="TEE-RED-L"')[1].split("</tr>")[0]
    assert '<td class="right">9</td>' in row  # 7 + 2 on hand
    assert "LOW" in row
    assert "LOW" not in page.split('data-sku="MUG-BLUE"')[1].split("</tr>")[0]

    low_only = tenant.client.get("/inventory/", {"low": "on"}).content.decode()
    assert "TEE-RED-L" in low_only
    assert "MUG-BLUE" not in low_only


def test_sku_search_matches_code_name_or_barcode_and_swaps_results_with_htmx(tenant: Any, stock: Stock) -> None:
    SkuFactory(organization=tenant.organization, code="MUG-BLUE", name="Blue mug")
    for query in ("tee-red", "Red tee", "01234"):
        body = tenant.client.get("/inventory/", {"q": query}).content.decode()
        assert "TEE-RED-L" in body, query
        assert "MUG-BLUE" not in body, query
    partial = tenant.client.get("/inventory/", {"q": "mug"}, HTTP_HX_REQUEST="true").content.decode()
    assert "MUG-BLUE" in partial
    assert "<html" not in partial


def test_sku_list_query_count_does_not_grow_with_rows(tenant: Any, stock: Stock) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert tenant.client.get("/inventory/").status_code == 200
        return len(captured)

    few = queries()
    for n in range(25):
        sku = SkuFactory(organization=tenant.organization, low_stock_threshold=n)
        _receive(tenant, sku, stock.warehouse if n % 2 else stock.other, n + 1)
    assert queries() == few


def test_sku_list_page_is_guarded(tenant: Any, stock: Stock, django_assert_max_num_queries: Any) -> None:
    for _ in range(30):
        _receive(tenant, SkuFactory(organization=tenant.organization), stock.warehouse, 3)
    with django_assert_max_num_queries(12):
        tenant.client.get("/inventory/")


def test_new_sku_form_creates_it_and_refuses_a_duplicate_code(tenant: Any, stock: Stock) -> None:
    data = {"code": "CAP-BLK", "name": "Black cap", "weight_unit": "oz", "dimension_unit": "in"}
    data |= {"low_stock_threshold": "3", "is_active": "on"}
    response = tenant.client.post("/inventory/skus/new/", data)
    assert response.status_code == 302
    with organization_scope(tenant.organization):
        sku = Sku.objects.get(code="CAP-BLK")
        assert sku.low_stock_threshold == 3
        assert AuditEntry.objects.filter(action="sku.created", target_id=str(sku.pk)).exists()

    again = tenant.client.post("/inventory/skus/new/", data | {"name": "Another"})
    assert again.status_code == 200
    assert "Another SKU already has the code CAP-BLK" in again.content.decode()


def test_a_new_sku_starts_in_the_organizations_units(tenant: Any) -> None:
    imperial = tenant.client.get("/inventory/skus/new/").context["form"]
    assert (imperial["weight_unit"].value(), imperial["dimension_unit"].value()) == ("oz", "in")
    tenant.organization.unit_system = "metric"
    tenant.organization.save(update_fields=["unit_system"])
    metric = tenant.client.get("/inventory/skus/new/").context["form"]
    assert (metric["weight_unit"].value(), metric["dimension_unit"].value()) == ("g", "cm")


def test_sku_attributes_are_edited_on_its_page(tenant: Any, stock: Stock) -> None:
    data = {"code": "TEE-RED-L", "name": "Red tee (L)", "weight": "6.5", "weight_unit": "oz", "dimension_unit": "in"}
    data |= {"low_stock_threshold": "4", "is_active": "on"}
    assert tenant.client.post(f"/inventory/skus/{stock.sku.pk}/", data).status_code == 302
    stock.sku.refresh_from_db()
    assert stock.sku.name == "Red tee (L)"
    assert stock.sku.low_stock_threshold == 4


# --------------------------------------------------------------------------------------- receive, adjust, count
def test_receive_adjust_and_count_on_the_sku_page_change_stock_and_write_the_ledger(tenant: Any, stock: Stock) -> None:
    url = f"/inventory/skus/{stock.sku.pk}"
    wh = str(stock.warehouse.pk)

    response = tenant.client.post(
        f"{url}/receive/", {"receive-warehouse": wh, "receive-quantity": "12", "receive-reference": "PO-77"}
    )
    assert response.status_code == 302
    assert _level(tenant, stock.sku, stock.warehouse).on_hand == 12

    response = tenant.client.post(
        f"{url}/adjust/", {"adjust-warehouse": wh, "adjust-delta": "-2", "adjust-reason": "damaged in transit"}
    )
    assert response.status_code == 302
    assert _level(tenant, stock.sku, stock.warehouse).on_hand == 10

    response = tenant.client.post(f"{url}/count/", {"count-warehouse": wh, "count-counted": "8"}, follow=True)
    assert _level(tenant, stock.sku, stock.warehouse).on_hand == 8
    assert "Counted 8 × TEE-RED-L at Reno: now 8 on hand" in response.content.decode()

    ledger = _movements(tenant, sku=stock.sku)
    assert [(m.kind, m.on_hand_delta) for m in ledger] == [
        (MovementKind.RECEIPT, 12),
        (MovementKind.ADJUSTMENT, -2),
        (MovementKind.COUNT, -2),
    ]
    assert ledger[0].reference == "PO-77"
    assert ledger[1].reason == "damaged in transit"
    assert ledger[0].actor_label == tenant.owner.email
    page = tenant.client.get(f"{url}/").content.decode()
    assert "damaged in transit" in page
    assert "PO-77" in page


def test_an_adjustment_without_a_reason_shows_the_services_message_and_changes_nothing(
    tenant: Any, stock: Stock
) -> None:
    _receive(tenant, stock.sku, stock.warehouse, 5)
    response = tenant.client.post(
        f"/inventory/skus/{stock.sku.pk}/adjust/",
        {"adjust-warehouse": str(stock.warehouse.pk), "adjust-delta": "-1", "adjust-reason": " "},
    )
    assert response.status_code == 200
    assert "Say why the stock changes" in response.content.decode()
    assert _level(tenant, stock.sku, stock.warehouse).on_hand == 5
    assert len(_movements(tenant, sku=stock.sku)) == 1


def test_counting_fewer_than_are_reserved_is_refused_with_the_services_message(tenant: Any, stock: Stock) -> None:
    _receive(tenant, stock.sku, stock.warehouse, 5)
    with organization_scope(tenant.organization):
        services.order_reserve(
            order_id=uuid7(), demand={stock.sku.pk: 3}, warehouse_ids=[stock.warehouse.pk], actor=Actor.system()
        )
    response = tenant.client.post(
        f"/inventory/skus/{stock.sku.pk}/count/", {"count-warehouse": str(stock.warehouse.pk), "count-counted": "1"}
    )
    body = response.content.decode()
    assert "3 units are reserved for orders but 1 were counted" in body
    level = _level(tenant, stock.sku, stock.warehouse)
    assert (level.on_hand, level.reserved) == (5, 3)

    receipt = tenant.client.post(
        f"/inventory/skus/{stock.sku.pk}/receive/",
        {"receive-warehouse": str(stock.warehouse.pk), "receive-quantity": "0"},
    )
    assert "A receipt adds at least one unit." in receipt.content.decode()
    assert _level(tenant, stock.sku, stock.warehouse).on_hand == 5


def test_tiktok_held_stock_cannot_be_chosen_for_a_change(tenant: Any, stock: Stock) -> None:
    fbt = WarehouseFactory(
        organization=tenant.organization, name="TikTok FBT", kind=WarehouseKind.PLATFORM, platform="tiktok"
    )
    response = tenant.client.post(
        f"/inventory/skus/{stock.sku.pk}/receive/", {"receive-warehouse": str(fbt.pk), "receive-quantity": "3"}
    )
    assert response.status_code == 200
    assert _level(tenant, stock.sku, fbt) is None


# ----------------------------------------------------------------------------------------- read-only roles
@pytest.mark.parametrize("role", [Role.VIEWER, Role.WAREHOUSE])
def test_read_only_roles_see_stock_but_no_forms_and_cannot_change_it(tenant: Any, stock: Stock, role: Role) -> None:
    _receive(tenant, stock.sku, stock.warehouse, 4)
    listing = ListingFactory(organization=tenant.organization, sku=None)
    client = tenant.client_as(role)

    page = client.get(f"/inventory/skus/{stock.sku.pk}/").content.decode()
    assert "TEE-RED-L" in page
    assert "/receive/" not in page
    assert "/adjust/" not in page
    assert 'name="code"' not in page
    listings = client.get("/inventory/listings/").content.decode()
    assert listing.platform_sku_id in listings
    assert "/map/" not in listings
    assert 'type="file"' not in client.get("/inventory/import/").content.decode()

    wh = str(stock.warehouse.pk)
    assert client.post(f"/inventory/skus/{stock.sku.pk}/receive/", {"receive-warehouse": wh}).status_code == 403
    assert client.post(f"/inventory/listings/{listing.pk}/map/", {"sku": "TEE-RED-L"}).status_code == 403
    assert _level(tenant, stock.sku, stock.warehouse).on_hand == 4
    listing.refresh_from_db()
    assert listing.sku_id is None


# ------------------------------------------------------------------------------------------------- listings
def test_listings_show_unmapped_first_with_a_count_badge(tenant: Any, stock: Stock) -> None:
    store = StoreFactory(organization=tenant.organization, name="Home US")
    ListingFactory(organization=tenant.organization, store=store, seller_sku="AAA-MAPPED", sku=stock.sku)
    ListingFactory(organization=tenant.organization, store=store, seller_sku="ZZZ-NEW", sku=None)
    body = tenant.client.get("/inventory/listings/").content.decode()
    assert body.index("ZZZ-NEW") < body.index("AAA-MAPPED")
    assert "1 unmapped" in body
    only_unmapped = tenant.client.get("/inventory/listings/", {"mapped": "no"}).content.decode()
    assert "ZZZ-NEW" in only_unmapped
    assert "AAA-MAPPED" not in only_unmapped


def test_a_listing_names_its_own_channels_sku_id(tenant: Any, stock: Stock) -> None:
    """A Shopify variant was shown as a "TikTok SKU", on the listings page and on the SKU's page."""
    tiktok = StoreFactory(organization=tenant.organization, name="Home US", platform=Platform.TIKTOK)
    shopify = StoreFactory(organization=tenant.organization, name="Outfitters", platform=Platform.SHOPIFY)
    ListingFactory(organization=tenant.organization, store=tiktok, platform_sku_id="1729001", sku=stock.sku)
    ListingFactory(organization=tenant.organization, store=shopify, platform_sku_id="5600038", sku=stock.sku)
    for page in (f"/inventory/skus/{stock.sku.pk}/", "/inventory/listings/"):
        body = tenant.client.get(page).content.decode()
        assert "TikTok Shop SKU id 1729001" in body, page
        assert "Shopify SKU id 5600038" in body, page
        assert "TikTok SKU 5600038" not in body, page


def test_mapping_a_listing_inline_calls_the_service_and_answers_with_its_row(tenant: Any, stock: Stock) -> None:
    listing = ListingFactory(organization=tenant.organization, seller_sku="red-tee-l", sku=None)
    response = tenant.client.post(
        f"/inventory/listings/{listing.pk}/map/", {"sku": "TEE-RED-L"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith(f'<tr id="listing-{listing.pk}"')
    assert "Mapped." in body
    listing.refresh_from_db()
    assert listing.sku_id == stock.sku.pk
    assert not listing.auto_matched
    with organization_scope(tenant.organization):
        assert AuditEntry.objects.filter(action="listing.mapped", target_id=str(listing.pk)).exists()


def test_every_unmapped_listing_gets_its_sku_from_its_seller_sku_at_once(tenant: Any, stock: Stock) -> None:
    store = StoreFactory(organization=tenant.organization)
    existing = ListingFactory(organization=tenant.organization, store=store, seller_sku="TEE-RED-L", sku=None)
    new = ListingFactory(
        organization=tenant.organization, store=store, seller_sku="MUG-BLUE", title="Blue mug", sku=None
    )
    twin = ListingFactory(organization=tenant.organization, seller_sku="MUG-BLUE", sku=None)  # another store's
    nameless = ListingFactory(organization=tenant.organization, store=store, seller_sku="", sku=None)
    page = tenant.client.get("/inventory/listings/").content.decode()
    assert "Create SKUs from seller SKUs" in page

    done = tenant.client.post("/inventory/listings/create-skus/", follow=True).content.decode()
    assert "Mapped 3 listing(s), creating 1 new SKU(s)" in done
    with organization_scope(tenant.organization):
        mug = Sku.objects.get(code="MUG-BLUE")
        assert mug.name == "Blue mug"
        assert AuditEntry.objects.filter(action="sku.created").count() == 1
    for listing in (existing, new, twin, nameless):
        listing.refresh_from_db()
    assert existing.sku_id == stock.sku.pk
    assert new.sku_id == twin.sku_id == mug.pk
    assert nameless.sku_id is None  # a person says which SKU it is
    again = tenant.client.post("/inventory/listings/create-skus/", follow=True).content.decode()
    assert "Nothing to do" in again


def test_mapping_to_an_unknown_sku_says_so_and_changes_nothing(tenant: Any, stock: Stock) -> None:
    listing = ListingFactory(organization=tenant.organization, sku=None)
    response = tenant.client.post(f"/inventory/listings/{listing.pk}/map/", {"sku": "NOPE-1"}, HTTP_HX_REQUEST="true")
    assert "No SKU with the code NOPE-1" in response.content.decode()
    listing.refresh_from_db()
    assert listing.sku_id is None

    without_htmx = tenant.client.post(f"/inventory/listings/{listing.pk}/map/", {"sku": "NOPE-1"}, follow=True)
    assert "No SKU with the code NOPE-1" in without_htmx.content.decode()


# --------------------------------------------------------------------------------------------------- ledger
def test_the_ledger_filters_by_sku_warehouse_kind_and_day(tenant: Any, stock: Stock) -> None:
    other_sku = SkuFactory(organization=tenant.organization, code="MUG-BLUE")
    _receive(tenant, stock.sku, stock.warehouse, 5)
    _receive(tenant, other_sku, stock.other, 6)
    with organization_scope(tenant.organization):
        services.stock_adjust(
            sku=stock.sku, warehouse=stock.warehouse, delta=-1, actor=Actor.system(), reason="sample for a shoot"
        )

    def rows(**params: str) -> str:
        return tenant.client.get("/inventory/ledger/", params, HTTP_HX_REQUEST="true").content.decode()

    everything = rows()
    assert everything.index("sample for a shoot") < everything.index("MUG-BLUE")  # newest first
    by_sku = rows(sku="mug-blue")
    assert by_sku.count("<tr data-kind") == 1
    assert rows(warehouse=str(stock.other.pk)).count("<tr data-kind") == 1
    assert rows(kind="adjustment").count("<tr data-kind") == 1
    assert rows(since="2000-01-01", until="2000-01-02").count("<tr data-kind") == 0
    assert "No matching stock movements" in rows(since="2000-01-01", until="2000-01-02")


def test_stock_by_warehouse_filters_by_warehouse(tenant: Any, stock: Stock) -> None:
    _receive(tenant, stock.sku, stock.warehouse, 5)
    _receive(tenant, SkuFactory(organization=tenant.organization, code="MUG-BLUE"), stock.other, 6)
    body = tenant.client.get("/inventory/stock/", {"warehouse": str(stock.other.pk)}).content.decode()
    assert "MUG-BLUE" in body
    assert "TEE-RED-L" not in body


# ----------------------------------------------------------------------------------------------- warehouses
def test_warehouses_are_created_edited_and_linked_to_tiktok_warehouses(tenant: Any) -> None:
    data = {
        "name": "Reno DC",
        "code": "RNO",
        "kind": "own",
        "is_active": "on",
        "tracks_stock": "on",
        "sender_name": "Acme Fulfilment",
        "address_line1": "100 Industrial Way",
        "city": "Reno",
        "state": "NV",
        "postal_code": "89502",
        "country_code": "us",
        "working_hours": "Mon-Fri 8-17",
        "cutoff_time": "14:30",
        "time_zone": "America/Los_Angeles",
        "working_days": ["1", "2", "3", "4", "5", "6"],
    }
    assert tenant.client.post("/inventory/warehouses/new/", data).status_code == 302
    with organization_scope(tenant.organization):
        warehouse = Warehouse.objects.get(name="Reno DC")
    assert warehouse.country_code == "US"
    assert warehouse.cutoff_time.strftime("%H:%M") == "14:30"
    assert warehouse.working_days == "123456"

    assert tenant.client.post(f"/inventory/warehouses/{warehouse.pk}/", data | {"city": "Sparks"}).status_code == 302
    warehouse.refresh_from_db()
    assert warehouse.city == "Sparks"
    duplicate = tenant.client.post("/inventory/warehouses/new/", data)
    assert "Another warehouse is already named Reno DC" in duplicate.content.decode()

    assert tenant.client.post(f"/inventory/warehouses/{warehouse.pk}/", data | {"city": "Reno"}).status_code == 302


def test_a_warehouse_is_linked_to_one_of_the_shops_tiktok_warehouses_shown_with_its_address(
    tenant: Any, tiktok: Any
) -> None:
    tiktok.connect(tenant.client)
    with organization_scope(tenant.organization):
        store = Store.objects.get(name="Dropline Home US")
        warehouse = WarehouseFactory(organization=tenant.organization, name="Reno DC")
    shop = next(s for s in tiktok.sandbox.world.shops.values() if s.name == "Dropline Home US")
    first = shop.warehouses[0]
    page = tenant.client.get(f"/inventory/warehouses/{warehouse.pk}/").content.decode()
    assert (
        "prints that TikTok warehouse&#x27;s address as the sender" in page or "prints that TikTok warehouse's" in page
    )
    assert first.name in page
    assert first.address.city in page  # the address the label will carry, before linking

    link = {"tiktok_warehouse": f"{store.pk}|{first.id}"}
    assert tenant.client.post(f"/inventory/warehouses/{warehouse.pk}/links/", link).status_code == 302
    with organization_scope(tenant.organization):
        made = WarehouseLink.objects.get(warehouse=warehouse)
    assert (made.store, made.platform_warehouse_id, made.platform_name) == (store, first.id, first.name)
    assert first.address.city in made.platform_address
    again = tenant.client.post(f"/inventory/warehouses/{warehouse.pk}/links/", link)
    assert "Choose one of the stores&#x27; TikTok warehouses that is not linked yet." in again.content.decode()
    shown = tenant.client.get(f"/inventory/warehouses/{warehouse.pk}/").content.decode()
    assert made.platform_address.split(",")[0] in shown

    assert tenant.client.post(f"/inventory/warehouse-links/{made.pk}/remove/").status_code == 302
    with organization_scope(tenant.organization):
        assert not WarehouseLink.objects.filter(pk=made.pk).exists()


def test_warehouse_list_shows_units_and_links_count(tenant: Any, stock: Stock) -> None:
    _receive(tenant, stock.sku, stock.warehouse, 5)
    WarehouseLinkFactory(organization=tenant.organization, warehouse=stock.warehouse)
    body = tenant.client.get("/inventory/warehouses/").content.decode()
    assert "Reno" in body
    assert "Austin 3PL" in body


# ---------------------------------------------------------------------------------------------- import/export
def _upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_a_csv_is_checked_then_applied(tenant: Any, stock: Stock) -> None:
    text = "code,name,barcode,low_stock_threshold\nCAP-BLK,Black cap,,3\nTEE-RED-L,Red tee (L),0123456789,\n"
    check = tenant.client.post(
        "/inventory/import/", {"kind": "skus", "file": _upload("skus.csv", text), "action": "check"}
    )
    body = check.content.decode()
    assert "skus.csv is good: 2 rows ready" in body
    assert "line 2: create CAP-BLK" in body
    assert "line 3: update TEE-RED-L (name)" in body
    with organization_scope(tenant.organization):
        assert not Sku.objects.filter(code="CAP-BLK").exists()  # a check changes nothing

    carried = body.split('<textarea name="text" hidden aria-hidden="true">')[1].split("</textarea>")[0]
    assert "CAP-BLK,Black cap,,3" in carried
    apply = tenant.client.post("/inventory/import/", {"kind": "skus", "text": text, "action": "apply"})
    assert "Imported 2 rows." in apply.content.decode()
    with organization_scope(tenant.organization):
        assert Sku.objects.get(code="CAP-BLK").low_stock_threshold == 3
        assert Sku.objects.get(code="TEE-RED-L").name == "Red tee (L)"


def test_stock_counts_import_through_the_ledger(tenant: Any, stock: Stock) -> None:
    text = "sku_code,warehouse,counted,bin_location\nTEE-RED-L,rno,14,A-01-3\n"
    tenant.client.post("/inventory/import/", {"kind": "stock", "text": text, "action": "apply"})
    level = _level(tenant, stock.sku, stock.warehouse)
    assert (level.on_hand, level.bin_location) == (14, "A-01-3")
    assert [m.kind for m in _movements(tenant, sku=stock.sku)] == [MovementKind.COUNT]


def test_a_bad_csv_shows_every_error_and_changes_nothing(tenant: Any, stock: Stock) -> None:
    _receive(tenant, stock.sku, stock.warehouse, 5)
    text = "sku_code,warehouse,counted\nTEE-RED-L,Reno,9\nNOPE,Reno,3\nTEE-RED-L,Nowhere,-1\n"
    for action in ("check", "apply"):
        response = tenant.client.post("/inventory/import/", {"kind": "stock", "text": text, "action": action})
        body = response.content.decode()
        assert "has 3 problems — nothing was changed" in body
        assert "no SKU NOPE" in body
        assert "no warehouse named or coded “Nowhere”" in body
        assert "cannot be negative" in body
        assert "Apply" not in body.split('id="import-report"')[1]
    assert _level(tenant, stock.sku, stock.warehouse).on_hand == 5
    assert len(_movements(tenant, sku=stock.sku)) == 1


def test_a_file_that_is_not_utf8_is_refused_plainly(tenant: Any) -> None:
    upload = SimpleUploadedFile("skus.csv", "code,name\nCAFÉ,Café\n".encode("latin-1"), content_type="text/csv")
    body = tenant.client.post("/inventory/import/", {"kind": "skus", "file": upload, "action": "check"})
    assert "not UTF-8" in body.content.decode()


def test_exports_download_csv_files(tenant: Any, stock: Stock) -> None:
    _receive(tenant, stock.sku, stock.warehouse, 5)
    response = tenant.client_as(Role.VIEWER).get("/inventory/export/", {"kind": "stock"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode().splitlines()[1] == "TEE-RED-L,Reno,5,"


def test_every_inventory_page_renders(tenant: Any, stock: Stock) -> None:
    listing = ListingFactory(organization=tenant.organization, sku=None)
    assert Listing.unscoped.filter(pk=listing.pk).exists()
    for url in (
        "/inventory/",
        "/inventory/skus/new/",
        f"/inventory/skus/{stock.sku.pk}/",
        "/inventory/stock/",
        "/inventory/listings/",
        "/inventory/ledger/",
        "/inventory/warehouses/",
        "/inventory/warehouses/new/",
        f"/inventory/warehouses/{stock.warehouse.pk}/",
        "/inventory/import/",
    ):
        assert tenant.client.get(url).status_code == 200, url


def test_stock_forms_make_the_worker_choose_a_warehouse_unless_the_row_link_chose_it(tenant: Any, stock: Stock) -> None:
    supplier = WarehouseFactory(organization=tenant.organization, name="Printful", tracks_stock=False)
    page = tenant.client.get(f"/inventory/skus/{stock.sku.pk}/").content.decode()
    receive = page.split('id="receive"')[1].split("</form>")[0]
    assert "Choose a warehouse…" in receive
    assert '<option value="" selected>Choose a warehouse…</option>' in receive
    assert str(supplier.pk) not in receive  # makes to order: nothing to receive there

    chosen = tenant.client.get(f"/inventory/skus/{stock.sku.pk}/", {"warehouse": str(stock.other.pk)}).content.decode()
    count = chosen.split('id="count"')[1].split("</select>")[0]
    assert f'value="{stock.other.pk}" selected' in count


@pytest.mark.chaos
def test_a_warehouse_page_asks_an_unreachable_platform_once_and_briefly(
    tenant: Any, tiktok: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seller with several shops opens a warehouse while TikTok does not answer: one short attempt, not a worker's
    five retries per shop (that was 76 s for 14 shops), and the page says which shops were not asked."""
    import httpx

    from integrations.tiktok.adapter import WHILE_A_PERSON_WAITS

    tiktok.connect_store(tenant.organization)
    second = StoreFactory(organization=tenant.organization, name="Second shop")
    second.authorization = Store.unscoped.exclude(pk=second.pk).first().authorization
    second.save()
    calls: list[httpx.Request] = []
    configs: list[Any] = []

    def refused(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("Connection refused", request=request)

    down = httpx.Client(transport=httpx.MockTransport(refused), base_url="http://sandbox")
    monkeypatch.setattr("integrations.tiktok.client.shared_http_client", lambda config: configs.append(config) or down)
    warehouse = WarehouseFactory(organization=tenant.organization)

    page = tenant.client.get(f"/inventory/warehouses/{warehouse.pk}/")

    assert page.status_code == 200
    assert len(calls) == 1
    assert configs[0].max_attempts == WHILE_A_PERSON_WAITS["max_attempts"] == 1
    assert configs[0].connect_timeout <= 2
    assert "not asked, TikTok did not answer" in page.content.decode()
