"""Durations in words: one helper for the order screens' countdowns and the at-risk list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from erp.durations import duration_text
from orders.templatetags.orders_extras import countdown


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=0), "under a minute"),
        (timedelta(seconds=59), "under a minute"),
        (-timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=12, seconds=40), "12 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(hours=3, minutes=20), "3 h 20 min"),
        (-timedelta(hours=2, minutes=3), "2 h 3 min"),
        (timedelta(days=2), "2 d"),
        (timedelta(days=2, hours=5, minutes=9), "2 d 5 h"),
    ],
)
def test_duration_text(delta: timedelta, text: str) -> None:
    assert duration_text(delta) == text


def test_a_countdown_under_a_minute_is_due_now_or_overdue_by_under_a_minute() -> None:
    now = timezone.now()
    assert countdown(now + timedelta(seconds=30), now=now)["text"] == "due now"
    assert countdown(now - timedelta(seconds=30), now=now)["text"] == "overdue by under a minute"
    assert countdown(now + timedelta(hours=5, minutes=12), now=now)["text"] == "ships in 5 h 12 min"
    assert countdown(now + timedelta(days=2), now=now)["text"] == "ships in 2 d"


@pytest.mark.django_db
def test_pages_say_under_a_minute_ago_not_0_minutes(tenant: Any) -> None:
    from tests.factories import StoreFactory

    now = timezone.now()
    StoreFactory(organization=tenant.organization, last_synced_at=now - timedelta(seconds=20))
    StoreFactory(organization=tenant.organization, last_synced_at=now - timedelta(hours=2, minutes=5, seconds=3))

    body = tenant.client.get("/stores/").content.decode()

    assert "under a minute ago" in body
    assert "2 h 5 min ago" in body
    assert "0\xa0minutes" not in body
    assert "0 minutes" not in body
