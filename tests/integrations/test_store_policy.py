"""Store policy update is one service (`store_policy_update`): the store's page calls it, it audits what changed
and tells inventory to re-push when a stock-push setting changed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from erp.actors import Actor
from erp.models import AuditEntry
from erp.tenancy import organization_scope
from integrations.models import Store
from integrations.services import store_policy_changed, store_policy_update
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _announced(store: Store, changes: dict[str, Any]) -> list[Store]:
    heard: list[Store] = []
    with store_policy_changed.muted():
        store_policy_changed.connect(heard.append)
        store_policy_update(store=store, actor=Actor.system("test"), changes=changes)
    return heard


def test_a_stock_push_change_is_saved_audited_and_announced(tenant: Any) -> None:
    store = StoreFactory(organization=tenant.organization)
    with organization_scope(tenant.organization):
        heard = _announced(store, {"stock_push_buffer": 3, "official_logistics_from": date(2026, 5, 1)})
        store.refresh_from_db()
        entry = AuditEntry.objects.get(action="store.policy_changed")
    assert (store.stock_push_buffer, store.official_logistics_from) == (3, date(2026, 5, 1))
    assert entry.changes == {"stock_push_buffer": 3, "official_logistics_from": "2026-05-01"}
    assert heard == [store]


def test_a_change_without_stock_push_is_not_announced_and_no_change_writes_nothing(tenant: Any) -> None:
    store = StoreFactory(organization=tenant.organization)
    with organization_scope(tenant.organization):
        assert _announced(store, {"backfill_days": 30}) == []
        assert _announced(store, {}) == []
        assert AuditEntry.objects.filter(action="store.policy_changed").count() == 1


def test_only_policy_fields_are_set(tenant: Any) -> None:
    store = StoreFactory(organization=tenant.organization)
    with organization_scope(tenant.organization), pytest.raises(ValueError, match="shop_cipher"):
        store_policy_update(store=store, actor=Actor.system("test"), changes={"shop_cipher": "x"})
