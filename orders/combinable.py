"""Which of a store's orders the platform allows to ship together (one buyer, one address), as last read from it.

`shipping.combine.combinable_refresh` asks the platform (Capability.COMBINE_PACKAGES) and remembers the groups here;
the order list reads them for its "can combine" badge and filter, the buy confirmation for its offer. A memory, not a
record: it expires, and every combine asks the platform again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from django.core.cache import cache

REMEMBER_SECONDS = 15 * 60


@dataclass(frozen=True)
class CombinableGroup:
    """Orders of one buyer the platform allows to ship as one package."""

    store_id: UUID
    package_id: str  # the id the platform pre-generated for the group
    order_ids: tuple[str, ...]  # platform order ids, as the platform listed them

    @property
    def parcels_saved(self) -> int:
        return len(self.order_ids) - 1


def _key(organization_id: object, store_id: object) -> str:
    return f"combinable:{organization_id}:{store_id}"


def combinable_remember(*, organization_id: object, store_id: UUID, groups: Sequence[CombinableGroup]) -> None:
    cache.set(_key(organization_id, store_id), list(groups), REMEMBER_SECONDS)


def combinable_groups(*, organization_id: object, store_ids: Iterable[object]) -> list[CombinableGroup]:
    """The groups last read for these stores (none when never read, or forgotten)."""
    found: list[CombinableGroup] = []
    for store_id in store_ids:
        found.extend(cache.get(_key(organization_id, store_id)) or ())
    return found


def combinable_order_ids(*, organization_id: object, store_ids: Iterable[object]) -> set[str]:
    """Every platform order id that is in a combinable group of these stores."""
    return {
        order_id
        for group in combinable_groups(organization_id=organization_id, store_ids=store_ids)
        for order_id in group.order_ids
    }
