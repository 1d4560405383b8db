"""Stores over the API: each store's sync status (cursor, last sync, what needs attention and the fix) and "Sync
now" through the dashboard's service, which imports the channel's new orders."""

from __future__ import annotations

from typing import Any

import pytest

from erp.tenancy import organization_scope
from integrations.models import AuthorizationStatus, SellerAuthorization, Store, StoreStatus
from orders.models import Order
from tests.apiclient import API, read_key, sync_key
from tests.channels.fake import Market

pytestmark = pytest.mark.django_db


def test_a_partner_reads_sync_status_and_syncs_a_store_now(
    tenant: Any, market: Market, store: Store, django_capture_on_commit_callbacks: Any
) -> None:
    api = API(sync_key(tenant))
    listed = api.get("stores/")
    assert listed.status_code == 200
    [row] = listed.json()["results"]  # the manual-orders store is not a store people connect
    assert (row["id"], row["status"], row["needs_attention"], row["attention"]) == (
        str(store.pk),
        "active",
        False,
        None,
    )
    assert row["sync"]["cursor"] is None
    assert (row["platform_label"], row["status_label"]) == (store.get_platform_display(), store.get_status_display())

    market.add_order("F-9", {"MUG": 1})
    with django_capture_on_commit_callbacks(execute=True):  # the sync task runs once the request commits
        synced = api.post(f"stores/{store.pk}/sync/")
    assert synced.status_code == 202, synced.json()
    assert synced.json()["requested"] is True
    with organization_scope(tenant.organization):
        assert Order.objects.filter(store=store, external_id="F-9").exists()
    detail = api.get(f"stores/{store.pk}/").json()
    assert detail["sync"]["last_synced_at"] is not None
    assert detail["sync"]["cursor_age_seconds"] >= 0
    assert detail["sync"]["orders_imported"] >= 1
    assert detail["notifications"]["received"] == 0


def test_a_store_that_needs_attention_says_the_fix_and_cannot_sync(tenant: Any, market: Market, store: Store) -> None:
    with organization_scope(tenant.organization):
        Store.objects.filter(pk=store.pk).update(status=StoreStatus.NEEDS_ATTENTION)
        SellerAuthorization.objects.filter(pk=store.authorization_id).update(
            status=AuthorizationStatus.FAILED, status_detail="The refresh token was rejected."
        )
    api = API(sync_key(tenant))
    row = api.get(f"stores/{store.pk}/").json()
    assert row["needs_attention"] is True
    assert row["attention"]["reason"] == "authorization"
    assert "refresh token was rejected" in row["attention"]["detail"]
    assert "Reconnect" in row["attention"]["fix"]
    refused = api.post(f"stores/{store.pk}/sync/")
    assert refused.status_code == 400
    assert "reconnect" in refused.json()["error"]["fields"]["non_field_errors"][0]


def test_another_organizations_store_and_a_read_key(
    tenant: Any, make_tenant: Any, market: Market, store: Store
) -> None:
    stranger = API(sync_key(make_tenant("Stranger")))
    assert stranger.get(f"stores/{store.pk}/").status_code == 404
    assert stranger.post(f"stores/{store.pk}/sync/").status_code == 404
    reader = API(read_key(tenant))
    assert reader.get(f"stores/{store.pk}/").status_code == 200
    assert reader.post(f"stores/{store.pk}/sync/").status_code == 403
    preset = API(tenant.api_key)  # "write what keys may write" does not include syncing stores: chosen on purpose
    assert preset.post(f"stores/{store.pk}/sync/").json()["error"]["code"] == "insufficient_scope"
    with organization_scope(tenant.organization):
        assert Store.objects.get(pk=store.pk).last_sync_started_at is None  # nobody synced it
