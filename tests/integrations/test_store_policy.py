"""Store policy update is one service (`store_policy_update`): the store's page calls it, it audits what changed
and tells inventory to re-push when a stock-push setting changed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from erp.actors import Actor
from erp.models import AuditEntry
from erp.tenancy import organization_scope
from integrations.models import Platform, Store, TikTokShopSettings
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
    assert (store.stock_push_buffer, store.tiktok_settings.official_logistics_from) == (3, date(2026, 5, 1))
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


def test_a_tiktok_stores_dates_go_to_its_settings_record_even_when_it_has_none(tenant: Any) -> None:
    store = StoreFactory(organization=tenant.organization, tiktok_settings=None)
    with organization_scope(tenant.organization):
        store_policy_update(store=store, actor=Actor.system("test"), changes={"joined_platform_on": date(2026, 2, 10)})
        saved = TikTokShopSettings.objects.get(store=store)
    assert (saved.joined_platform_on, saved.cipher, saved.organization_id) == (
        date(2026, 2, 10),
        "",
        store.organization_id,
    )


def test_only_a_tiktok_store_has_logistics_policy_dates_and_the_cipher_is_no_policy(tenant: Any) -> None:
    manual = StoreFactory(organization=tenant.organization, platform=Platform.MANUAL)
    tiktok = StoreFactory(organization=tenant.organization)
    with organization_scope(tenant.organization):
        with pytest.raises(ValueError, match="official_logistics_from"):
            store_policy_update(
                store=manual, actor=Actor.system("test"), changes={"official_logistics_from": date(2026, 5, 1)}
            )
        with pytest.raises(ValueError, match="cipher"):
            store_policy_update(store=tiktok, actor=Actor.system("test"), changes={"cipher": "GCP_other"})
        assert not TikTokShopSettings.objects.filter(store=manual).exists()


def test_the_store_page_shows_and_saves_the_dates_only_for_a_tiktok_store(tenant: Any) -> None:
    tiktok = StoreFactory(organization=tenant.organization, tiktok_settings__joined_platform_on=date(2026, 2, 10))
    manual = StoreFactory(organization=tenant.organization, platform=Platform.MANUAL)
    shown = tenant.client.get(f"/stores/{tiktok.pk}/")
    assert shown.context["form"].initial["joined_platform_on"] == date(2026, 2, 10)
    assert b"Opened on TikTok Shop" in shown.content
    page = tenant.client.get(f"/stores/{manual.pk}/")
    assert not set(page.context["form"].fields) & {"joined_platform_on", "official_logistics_from"}
    assert b"Opened on TikTok Shop" not in page.content
    data = {
        "backfill_days": 10,
        "handling_days": 2,
        "stock_push_percentage": 100,
        "stock_push_buffer": 0,
        "stock_push_zero_below": 0,
    }
    saved = tenant.client.post(f"/stores/{manual.pk}/", {**data, "official_logistics_from": "2026-05-01"})
    assert saved.status_code == 302
    manual.refresh_from_db()
    assert manual.backfill_days == 10
    assert not TikTokShopSettings.unscoped.filter(store=manual).exists()
