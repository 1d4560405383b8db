"""TikTok Shop's 2026 Logistics Services policy as data: from when each store must ship every order on official
TikTok logistics (TikTok Shipping labels, Collections by TikTok, Fulfilled by TikTok) instead of seller shipping.

The published dates live in `PUBLISHED_POLICIES`, once; a TikTok store may override them in its settings record
(`TikTokShopSettings.logistics_transition_from`, `.official_logistics_from`) when the platform moves them for that
shop, and says when it joined the platform (`.joined_platform_on`), which decides whether the transition applies at
all. A TikTok store without the record follows the published dates. See docs/adr/0008-logistics-policy-as-data.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from erp import clock
from integrations.models import Platform, Store, TikTokShopSettings


@dataclass(frozen=True)
class PublishedPolicy:
    """One line of the policy as the platform announced it, for one region and kind of seller."""

    region: str
    seller_type: str  # LOCAL | CROSS_BORDER
    # Seller shipping is still accepted from here until `required_from` (a warning, not a violation).
    transition_from: date | None
    # The first day every shipped order must be on official logistics. None: required for as long as we know.
    required_from: date | None
    # Shops that joined the platform on or after this day are required from their first day (no transition).
    new_sellers_from: date | None
    time_zone: str  # the policy's dates are days in this zone
    source: str


# The announcements (TikTok Shop "Logistics Services", rolled out from 25 Feb 2026 PST): seller shipping is phased
# out for existing US local sellers between 25 Feb and 31 Mar 2026; shops opening on or after 3 Feb 2026 use official
# logistics exclusively; cross-border sellers were already required. Sources: shared/platforms/tiktok-shop §9.
PUBLISHED_POLICIES: tuple[PublishedPolicy, ...] = (
    PublishedPolicy(
        region="US",
        seller_type="LOCAL",
        transition_from=date(2026, 2, 25),
        required_from=date(2026, 4, 1),  # the transition ends with 31 Mar 2026
        new_sellers_from=date(2026, 2, 3),
        time_zone="America/Los_Angeles",
        source="TikTok Shop Logistics Services, US: transition 25 Feb – 31 Mar 2026; new sellers from 3 Feb 2026",
    ),
    PublishedPolicy(
        region="US",
        seller_type="CROSS_BORDER",
        transition_from=None,
        required_from=None,
        new_sellers_from=None,
        time_zone="America/Los_Angeles",
        source="TikTok Shop Logistics Services, US: already in force for cross-border sellers",
    ),
)


class Phase(StrEnum):
    NOT_REQUIRED = "not_required"  # no policy known for the store (yet): seller shipping is accepted
    BEFORE = "before"  # the policy is announced but not started
    TRANSITION = "transition"  # seller shipping still accepted, but it must go
    REQUIRED = "required"  # seller shipping is a violation


@dataclass(frozen=True)
class StorePolicy:
    """What applies to one store, and why."""

    transition_from: date | None
    required_from: date | None
    required_always: bool  # required for every order we know of (cross-border; a shop that joined after the date)
    time_zone: ZoneInfo
    basis: str  # in words, for the page

    @property
    def applies(self) -> bool:
        return self.required_always or self.required_from is not None

    def required_since(self) -> datetime | None:
        """The instant from which seller shipping is a violation (None: never, as far as we know; or always)."""
        if self.required_always or self.required_from is None:
            return None
        return datetime.combine(self.required_from, time.min, tzinfo=self.time_zone)

    def transition_since(self) -> datetime | None:
        if self.transition_from is None:
            return None
        return datetime.combine(self.transition_from, time.min, tzinfo=self.time_zone)

    def phase(self, at: datetime) -> Phase:
        if self.required_always:
            return Phase.REQUIRED
        required = self.required_since()
        if required is None:
            return Phase.NOT_REQUIRED
        if at >= required:
            return Phase.REQUIRED
        transition = self.transition_since()
        return Phase.TRANSITION if transition is not None and at >= transition else Phase.BEFORE


def published_policy(*, region: str, seller_type: str) -> PublishedPolicy | None:
    kind = seller_type or "LOCAL"
    return next((p for p in PUBLISHED_POLICIES if p.region == region and p.seller_type == kind), None)


def with_policy_dates(stores: QuerySet[Store]) -> QuerySet[Store]:
    """`stores` fetched with the dates their policy is read from, so `store_logistics_policy` asks nothing more."""
    return stores.select_related("tiktok_settings")


def store_logistics_policy(store: Store) -> StorePolicy:
    """The store's own dates where it has them, else the published policy for its region and kind of seller. The
    policy is TikTok Shop's: a store on another channel has none."""
    if store.platform != Platform.TIKTOK:
        return StorePolicy(
            transition_from=None,
            required_from=None,
            required_always=False,
            time_zone=ZoneInfo("UTC"),
            basis=f"{store.get_platform_display()} sets no logistics policy of this kind",
        )
    published = published_policy(region=store.region, seller_type=store.seller_type)
    zone = clock.zone_named(published.time_zone if published else None)
    dates = TikTokShopSettings.of(store)
    official_from = dates.official_logistics_from if dates else None
    transition_from = dates.logistics_transition_from if dates else None
    if official_from is not None:
        # Without its own phase-out day, the store keeps the published one (when it falls before its cut-off).
        start = transition_from or (published.transition_from if published else None)
        return StorePolicy(
            transition_from=start if start is not None and start <= official_from else None,
            required_from=official_from,
            required_always=False,
            time_zone=zone,
            basis="Dates set on this store",
        )
    if published is None:
        return StorePolicy(None, None, False, zone, "No published policy for this region yet: set dates on the store")
    joined = dates.joined_platform_on if dates else None
    if published.required_from is None:
        return StorePolicy(None, None, True, zone, published.source)
    if joined is not None and published.new_sellers_from is not None and joined >= published.new_sellers_from:
        return StorePolicy(
            transition_from=None,
            required_from=joined,
            required_always=False,
            time_zone=zone,
            basis=f"Joined TikTok Shop on {joined:%-d %b %Y}: official logistics from day one",
        )
    return StorePolicy(
        transition_from=transition_from or published.transition_from,
        required_from=published.required_from,
        required_always=False,
        time_zone=zone,
        basis=published.source,
    )
