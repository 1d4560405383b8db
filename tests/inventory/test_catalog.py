"""A store's catalogue becomes listings: every variant the channel sells, matched to our SKUs by seller SKU, and a
newly matched listing is marked so the channel advertises our stock before the variant's first order."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.db import ANALYZE_FUNCTION, PlannerStatistics
from erp.tenancy import organization_scope
from integrations.models import Store
from inventory.catalog import store_catalog_sync
from inventory.models import Listing
from tests.factories import SkuFactory

pytestmark = pytest.mark.django_db


def _catalogue(tiktok: Any, store: Store) -> dict[str, str]:
    """platform SKU id -> seller SKU, as the sandbox holds the shop's catalogue."""
    return {
        sku.id: sku.seller_sku
        for product in tiktok.sandbox.world.products.values()
        if product.shop_id == store.external_id
        for sku in product.skus
    }


def test_every_variant_becomes_a_listing_matched_by_seller_sku_and_marked_for_a_push(
    tenant: Any, tiktok: Any, connected_store: Store
) -> None:
    catalogue = _catalogue(tiktok, connected_store)
    assert len(catalogue) > 3
    with organization_scope(tenant.organization):
        Listing.objects.filter(store=connected_store).delete()  # as if none of them had sold yet
        ours = sorted({code for code in catalogue.values() if code})[:3]
        skus = {code: SkuFactory(organization=tenant.organization, code=code) for code in ours}

        result = store_catalog_sync(store=connected_store, time_budget=60)

        listings = {listing.platform_sku_id: listing for listing in Listing.objects.filter(store=connected_store)}
        assert set(listings) == set(catalogue)
        assert result.variants == len(catalogue)
        assert result.created == len(catalogue)
        matched = {sku_id: listing for sku_id, listing in listings.items() if listing.sku_id is not None}
        assert {listing.seller_sku for listing in matched.values()} == set(ours)
        assert all(listing.sku_id == skus[listing.seller_sku].pk for listing in matched.values())
        assert result.matched == len(matched)
        assert all(listing.push_requested_at is not None for listing in matched.values())
        assert all(listing.push_requested_at is None for listing in listings.values() if listing.sku_id is None)

        again = store_catalog_sync(store=connected_store, time_budget=60)
        assert (again.created, again.matched, Listing.objects.filter(store=connected_store).count()) == (
            0,
            0,
            len(catalogue),
        )


def test_a_big_catalogue_stops_at_its_time_budget_and_says_where_to_go_on(
    tenant: Any, tiktok: Any, connected_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("integrations.tiktok.adapter.PRODUCTS_PAGE_SIZE", 2)
    catalogue = _catalogue(tiktok, connected_store)
    with organization_scope(tenant.organization):
        Listing.objects.filter(store=connected_store).delete()
        first = store_catalog_sync(store=connected_store, time_budget=0)
        assert first.products == 2
        assert first.next_cursor
        rest = store_catalog_sync(store=connected_store, cursor=first.next_cursor, time_budget=60)
        assert rest.next_cursor is None
        assert Listing.objects.filter(store=connected_store).count() == len(catalogue)


@pytest.mark.postgres
def test_a_first_catalogue_refreshes_the_listings_statistics_as_it_grows(
    tenant: Any, tiktok: Any, connected_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every reservation marks its SKUs' listings; planned for a listings table believed nearly empty, that mark read
    every listing of the organization. A catalogue read refreshes the table's statistics as it doubles (here from 2
    listings on, instead of 1,000, for a catalogue of a few)."""
    monkeypatch.setattr(PlannerStatistics, "FIRST_AFTER", 2)
    monkeypatch.setattr(PlannerStatistics, "_rows_estimated", lambda self: 0)  # never analysed
    with organization_scope(tenant.organization):
        Listing.objects.filter(store=connected_store).delete()
        with CaptureQueriesContext(connection) as sent:
            result = store_catalog_sync(store=connected_store, time_budget=60)
    assert result.created > 2
    assert f"SELECT {ANALYZE_FUNCTION}(ARRAY['inventory_listing'])" in [q["sql"] for q in sent.captured_queries]
