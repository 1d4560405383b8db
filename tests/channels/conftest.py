"""The in-memory channels of tests/channels/fake.py, registered for one test and connected through the services."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from erp.actors import Actor
from integrations import registry, services
from integrations.models import Store
from tests.channels.fake import FakeAdapter, FakeLabelAdapter, Market

ROBOT = Actor.system("test")


def connect(organization: Any, adapter: FakeAdapter) -> Store:
    """Connect through the services a person's click on "Connect" runs (consent, callback)."""
    adapter.market.codes.add("consent-1")
    session: dict[str, Any] = {}
    url = services.store_connect_start(session=session, organization=organization, platform=adapter.platform)
    with services.store_sync_requested.muted():
        result = services.store_connect_complete(
            session=session,
            organization=organization,
            actor=ROBOT,
            platform=adapter.platform,
            code="consent-1",
            state=parse_qs(urlparse(url).query)["state"][0],
        )
    assert [s.external_id for s in result.connected] == [adapter.market.shop_id]
    return Store.unscoped.select_related("authorization").get(platform=adapter.platform)


@pytest.fixture
def market() -> Iterator[Market]:
    market = Market()
    registry.register(FakeAdapter(market))
    yield market
    registry.unregister(FakeAdapter.platform)


@pytest.fixture
def store(tenant: Any, market: Market) -> Store:
    return connect(tenant.organization, FakeAdapter(market))


@pytest.fixture
def label_market() -> Iterator[Market]:
    market = Market(shop_id="fake-label-shop")
    registry.register(FakeLabelAdapter(market))
    yield market
    registry.unregister(FakeLabelAdapter.platform)


@pytest.fixture
def label_store(tenant: Any, label_market: Market) -> Store:
    return connect(tenant.organization, FakeLabelAdapter(label_market))
