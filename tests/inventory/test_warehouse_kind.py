"""A platform's own warehouse is one neutral kind carrying its platform (docs/adr/0017): the database holds the pair
together, the migration turns TikTok's "fbt" rows into it and back, "fbt" is still taken wherever a kind is given and
still read from the API, sellers read the platform's own words, and a store's pull touches only the warehouses of its
own platform."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations import registry
from integrations.interface import FbtSkuStock, FbtStock, FbtWarehouse
from integrations.models import Store
from inventory import platform_fulfilment, services
from inventory.models import StockLevel, Warehouse, WarehouseKind, WarehouseLink, warehouse_kind_read
from tests.channels.conftest import connect
from tests.channels.fake import FakeAdapter, Market
from tests.factories import ListingFactory, SkuFactory, StockLevelFactory, WarehouseFactory, WarehouseLinkFactory

pytestmark = pytest.mark.django_db
to_platform = importlib.import_module("inventory.migrations.0011_warehouse_fbt_to_platform")
ROBOT = Actor.system("test")


@pytest.fixture
def org(tenant: Any) -> Iterator[Any]:
    with organization_scope(tenant.organization):
        yield tenant.organization


# --------------------------------------------------------------------------------------------- the database
@pytest.mark.parametrize(("kind", "platform"), [(WarehouseKind.PLATFORM, ""), (WarehouseKind.OWN, "tiktok")])
def test_a_platform_is_named_by_a_platform_warehouse_and_by_no_other(org: Any, kind: str, platform: str) -> None:
    with pytest.raises(IntegrityError, match="warehouse_platform_iff_platform_kind"), transaction.atomic():
        WarehouseFactory(organization=org, kind=kind, platform=platform)


def test_the_migration_makes_fbt_rows_tiktoks_platform_warehouses_and_back(org: Any) -> None:
    own = WarehouseFactory(organization=org, name="Reno")
    tiktoks = WarehouseFactory(organization=org, name="TikTok FBT — East", kind="fbt")  # as 0010 leaves them

    to_platform.forwards(apps, None)
    assert {(w.name, w.kind, w.platform) for w in Warehouse.objects.all()} == {
        ("Reno", "own", ""),
        ("TikTok FBT — East", "platform", "tiktok"),
    }

    to_platform.backwards(apps, None)
    tiktoks.refresh_from_db()
    own.refresh_from_db()
    assert (tiktoks.kind, tiktoks.platform, own.kind) == ("fbt", "", "own")


def test_the_migration_does_not_go_back_over_another_platforms_warehouse(org: Any) -> None:
    WarehouseFactory(organization=org, kind=WarehouseKind.PLATFORM, platform="amazon")
    with pytest.raises(RuntimeError, match="other than TikTok"):
        to_platform.backwards(apps, None)


# ------------------------------------------------------------------------------------------------- the input
def test_fbt_is_read_as_tiktoks_platform_warehouse() -> None:
    assert warehouse_kind_read("fbt") == ("platform", "tiktok")
    assert warehouse_kind_read("platform:tiktok") == ("platform", "tiktok")
    assert warehouse_kind_read("platform", platform="tiktok") == ("platform", "tiktok")
    assert warehouse_kind_read("3pl", platform="tiktok") == ("3pl", "")


def test_the_service_takes_fbt_and_clears_the_platform_of_another_kind(org: Any) -> None:
    warehouse = services.warehouse_save(actor=ROBOT, fields={"name": "TikTok FBT", "kind": "fbt"})
    assert (warehouse.kind, warehouse.platform) == (WarehouseKind.PLATFORM, "tiktok")

    services.warehouse_save(actor=ROBOT, warehouse=warehouse, fields={"kind": WarehouseKind.OWN})
    warehouse.refresh_from_db()
    assert (warehouse.kind, warehouse.platform) == (WarehouseKind.OWN, "")

    with pytest.raises(services.ValidationError, match="which platform"):
        services.warehouse_save(actor=ROBOT, warehouse=warehouse, fields={"kind": WarehouseKind.PLATFORM})


def _form(name: str, kind: str) -> dict[str, Any]:
    return {"name": name, "kind": kind, "is_active": "on", "tracks_stock": "on", "country_code": "US"} | {
        "working_days": ["1", "2", "3", "4", "5"]
    }


def test_the_form_offers_tiktoks_own_words_and_still_takes_fbt(tenant: Any) -> None:
    page = tenant.client.get("/inventory/warehouses/new/").content.decode()
    assert '<option value="platform:tiktok">Fulfilled by TikTok (FBT)</option>' in page
    assert 'value="platform"' not in page  # a platform warehouse is always a platform's

    for name, kind in (("Sent as before", "fbt"), ("Chosen today", "platform:tiktok")):
        assert tenant.client.post("/inventory/warehouses/new/", _form(name, kind)).status_code == 302
    with organization_scope(tenant.organization):
        made = {w.name: (w.kind, w.platform) for w in Warehouse.objects.all()}
        assert made == {"Sent as before": ("platform", "tiktok"), "Chosen today": ("platform", "tiktok")}
        warehouse = Warehouse.objects.get(name="Chosen today")

    detail = tenant.client.get(f"/inventory/warehouses/{warehouse.pk}/").content.decode()
    assert '<option value="platform:tiktok" selected>Fulfilled by TikTok (FBT)</option>' in detail
    assert "This is stock held by TikTok (FBT)." in detail
    assert tenant.client.post(f"/inventory/warehouses/{warehouse.pk}/", _form("Chosen today", "own")).status_code == 302
    warehouse.refresh_from_db()
    assert (warehouse.kind, warehouse.platform) == ("own", "")
    refused = tenant.client.post("/inventory/warehouses/new/", _form("Nobody's", "platform:nowhere"))
    assert "Select a valid choice" in refused.content.decode()


# ------------------------------------------------------------------------------------------ what people read
def test_people_and_partners_read_the_platforms_words(tenant: Any, market: Market) -> None:
    with organization_scope(tenant.organization):
        tiktoks = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.PLATFORM, platform="tiktok")
        fakes = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.PLATFORM, platform="fakeshop")
        own = WarehouseFactory(organization=tenant.organization)
    assert (tiktoks.kind_label, tiktoks.held_by) == ("Fulfilled by TikTok (FBT)", "TikTok (FBT)")
    assert (fakes.kind_label, fakes.held_by) == ("Fulfilled by FakeShop (FFS)", "FakeShop (FFS)")
    assert (own.kind_label, own.held_by, own.is_platform_fulfilment) == ("Own warehouse", "", False)
    # The API keeps giving TikTok's warehouses the kind it always gave them, and says whose they are.
    rows = {
        row["id"]: row
        for row in tenant.client.get("/api/v1/warehouses/", HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}").json()[
            "results"
        ]
    }
    assert (rows[str(tiktoks.pk)]["kind"], rows[str(tiktoks.pk)]["platform"]) == ("fbt", "tiktok")
    assert (rows[str(fakes.pk)]["kind"], rows[str(fakes.pk)]["platform"]) == ("platform", "fakeshop")
    assert (rows[str(own.pk)]["kind"], rows[str(own.pk)]["platform"]) == ("own", "")
    assert rows[str(tiktoks.pk)]["is_read_only"] is True


# ------------------------------------------------------------------------------------------------- the pull
@dataclass
class Centres:
    """A channel that fulfils from its own warehouses: what it lists and holds (SalesChannel's two calls)."""

    centres: list[FbtWarehouse]
    stock: list[FbtStock] = field(default_factory=list)

    def list_fulfilment_centres(self) -> list[FbtWarehouse]:
        return self.centres

    def read_fulfilment_stock(self, *, centre_ids: Sequence[str]) -> Iterator[FbtStock]:
        return iter([row for row in self.stock if row.fbt_warehouse_id in centre_ids])


@pytest.fixture
def market() -> Iterator[Market]:
    market = Market()
    registry.register(FakeAdapter(market))
    yield market
    registry.unregister(FakeAdapter.platform)


def test_a_stores_pull_touches_only_the_warehouses_of_its_own_platform(tenant: Any, market: Market) -> None:
    fake_store = connect(tenant.organization, FakeAdapter(market))
    with organization_scope(tenant.organization):
        sku = SkuFactory(organization=tenant.organization, code="TEE")
        tiktok_store = Store.objects.get(pk=WarehouseLinkFactory(organization=tenant.organization).store_id)
        # TikTok's centre "C1", stocked by TikTok's pull; the fake platform happens to use the same centre id.
        tiktoks = WarehouseFactory(
            organization=tenant.organization, name="TikTok FBT — C1", kind=WarehouseKind.PLATFORM, platform="tiktok"
        )
        WarehouseLinkFactory(
            organization=tenant.organization, warehouse=tiktoks, store=tiktok_store, platform_warehouse_id="C1"
        )
        StockLevelFactory(organization=tenant.organization, sku=sku, warehouse=tiktoks, on_hand=7)
        ListingFactory(organization=tenant.organization, store=fake_store, platform_sku_id="fake-tee", sku=sku)
        centre = FbtWarehouse(fbt_warehouse_id="C1", name="C1", type="PLATFORM_WAREHOUSE", subscribed=True)
        tee = FbtSkuStock(sku_id="fake-tee", total=3, available=3, reserved=0)
        goods = FbtStock(
            goods_id="g1", reference_code="TEE", name="Tee", fbt_warehouse_id="C1", total=3, available=3, reserved=0,
            unfulfillable=0, in_transit=0, skus=(tee,),
        )  # fmt: skip
        channel = Centres([centre], [goods])

        result = platform_fulfilment.store_platform_fulfilment_sync(store=fake_store, channel=channel)  # type: ignore[arg-type]

        assert (result.warehouses, result.levels_set) == (1, 1)
        fakes = Warehouse.objects.get(platform="fakeshop")
        assert (fakes.kind, fakes.name, fakes.code) == (WarehouseKind.PLATFORM, "FakeShop FFS — C1", "FFS")
        assert WarehouseLink.objects.get(store=fake_store).warehouse == fakes
        assert StockLevel.objects.get(warehouse=fakes, sku=sku).on_hand == 3
        assert StockLevel.objects.get(warehouse=tiktoks, sku=sku).on_hand == 7  # TikTok's stock is TikTok's to set
        assert list(WarehouseLink.objects.filter(warehouse=tiktoks).values_list("store", flat=True)) == [
            tiktok_store.pk
        ]
