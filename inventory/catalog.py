"""A store's catalogue as listings: every variant the channel sells, not only those that have sold.

Listings used to appear only with a store's first order of them, so a Shopify variant that had not sold yet kept
advertising its old quantity after a TikTok sale of the same SKU. Reading the catalogue (Capability.CATALOG) when a
store is connected, hourly, and on demand makes every variant a listing, matched to our SKU by seller SKU; a new
matched listing is marked for a push at once, so the channel advertises our stock from the start.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from erp.db import PlannerStatistics
from integrations import registry
from integrations.base import Capability
from integrations.models import Store
from integrations.services import store_client
from inventory.models import Listing
from inventory.push import listings_mark
from inventory.services import listings_for_lines

log = logging.getLogger(__name__)

TIME_BUDGET_SECONDS = 120.0  # a task's share of a big catalogue; the next run (or a fresh task) goes on


@dataclass
class CatalogResult:
    products: int = 0
    variants: int = 0
    created: int = 0  # new listings
    matched: int = 0  # of which matched to one of our SKUs (and marked for a push)
    next_cursor: str | None = None  # set when the time budget ran out before the last page

    def __str__(self) -> str:
        more = ", more to read" if self.next_cursor else ""
        listings = f"{self.created} new listings ({self.matched} matched)"
        return f"{self.products} products, {self.variants} variants, {listings}{more}"


def on_store_sync_requested(store: Store) -> None:
    """`integrations.services.store_sync_requested` receiver: read the store's catalogue in the background."""
    if not registry.has_capability(store.platform, Capability.CATALOG):
        return
    from inventory.tasks import catalog_sync_store  # tasks import this module

    catalog_sync_store.delay_on_commit(organization_id=str(store.organization_id), store_id=str(store.pk))


def store_catalog_sync(
    *, store: Store, cursor: str | None = None, time_budget: float = TIME_BUDGET_SECONDS
) -> CatalogResult:
    """Read the store's catalogue page by page from `cursor` and make a listing of every variant with an id.
    Safe to run twice (listings are unique per store and platform SKU). Raises PlatformError as the channel does."""
    result = CatalogResult()
    if not registry.has_capability(store.platform, Capability.CATALOG):
        return result
    channel = store_client(store)
    started = time.monotonic()
    # A first catalogue can be tens of thousands of listings at once, and every reservation marks its SKUs'
    # listings: with statistics of a near-empty table that mark reads every listing of the organization.
    statistics = PlannerStatistics(("inventory_listing",))
    while True:
        page = channel.list_products(cursor=cursor)
        lines = [
            (
                sku.sku_id,
                sku.seller_sku,
                product.product_id,
                f"{product.title} · {sku.name}" if sku.name else product.title,
            )
            for product in page.items
            for sku in product.skus
            if sku.sku_id
        ]
        known = set(
            Listing.objects.filter(store=store, platform_sku_id__in=[line[0] for line in lines]).values_list(
                "platform_sku_id", flat=True
            )
        )
        listings = listings_for_lines(store=store, lines=lines)
        new = [listing for sku_id, listing in listings.items() if sku_id not in known]
        matched = [listing.pk for listing in new if listing.sku_id is not None]
        if matched:
            listings_mark(listing_ids=matched)
        result.products += len(page.items)
        result.variants += len(lines)
        result.created += len(new)
        result.matched += len(matched)
        statistics.written(len(new))
        cursor = page.next_cursor
        if cursor is None:
            return result
        if time.monotonic() - started > time_budget:
            result.next_cursor = cursor
            return result
