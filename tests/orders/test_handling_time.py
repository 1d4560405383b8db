"""Orders of a channel that sets no ship-by (Shopify) are due the store's handling time after payment, counted Monday
to Friday; a platform's own deadline always wins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.interface import Deadlines, FulfilledBy, LabelSource, OrderStatus, PlatformOrder
from integrations.models import Store
from orders.services import handling_ship_by


def _order(paid_at: datetime | None, deadlines: Deadlines | None = None) -> PlatformOrder:
    return PlatformOrder(
        platform="shopify",
        order_id="1",
        status=OrderStatus.AWAITING_SHIPMENT,
        label_source=LabelSource.SELLER,
        fulfilled_by=FulfilledBy.SELLER,
        lines=(),
        address=None,
        created_at=paid_at,
        updated_at=paid_at,
        paid_at=paid_at,
        deadlines=deadlines or Deadlines(),
    )


@pytest.mark.parametrize(
    ("paid", "days", "due"),
    [
        (datetime(2026, 12, 1, 15, tzinfo=UTC), 2, datetime(2026, 12, 3, 15, tzinfo=UTC)),  # Tue -> Thu
        (datetime(2026, 12, 4, 9, tzinfo=UTC), 1, datetime(2026, 12, 7, 9, tzinfo=UTC)),  # Fri -> Mon
        (datetime(2026, 12, 5, 9, tzinfo=UTC), 2, datetime(2026, 12, 8, 9, tzinfo=UTC)),  # Sat -> Tue
        (datetime(2026, 12, 2, 9, tzinfo=UTC), 0, datetime(2026, 12, 2, 9, tzinfo=UTC)),  # same day
    ],
)
def test_handling_days_count_monday_to_friday_from_payment(paid: datetime, days: int, due: datetime) -> None:
    assert handling_ship_by(Store(handling_days=days), _order(paid)) == due


def test_a_platform_deadline_wins_and_an_unpaid_order_has_none() -> None:
    paid = datetime(2026, 12, 1, tzinfo=UTC)
    assert handling_ship_by(Store(handling_days=2), _order(paid, Deadlines(ship_by=paid))) is None
    assert handling_ship_by(Store(handling_days=2), _order(paid, Deadlines(shipping_due=paid))) is None
    assert handling_ship_by(Store(handling_days=2), _order(None)) is None
