"""Connecting TikTok shops by OAuth through the dashboard, tokens at rest, and the webhook endpoint."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test import Client

from erp.models import AuditEntry
from erp.roles import Role
from erp.tenancy import organization_scope
from integrations.models import (
    AuthorizationStatus,
    SellerAuthorization,
    Store,
    StoreStatus,
    TikTokShopSettings,
    WebhookDelivery,
)
from integrations.tiktok.signing import webhook_signature

pytestmark = pytest.mark.django_db


def test_connect_creates_one_store_per_shop_and_audits_it(tenant: Any, tiktok: Any) -> None:
    response = tiktok.connect(tenant.client)
    assert response.status_code == 302
    assert response["Location"] == "/stores/"
    with organization_scope(tenant.organization):
        stores = {s.name: s for s in Store.objects.all()}
        assert set(stores) == {"Dropline Home US", "Dropline Outlet US"}
        assert {s.tiktok_settings.cipher[:4] for s in stores.values()} == {"GCP_"}  # kept by the TikTok adapter
        actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions.count("store.connected") == 2
    page = tenant.client.get("/stores/")
    assert b"Dropline Home US" in page.content


def test_the_consent_page_receives_a_state_that_works_once(tenant: Any, tiktok: Any) -> None:
    redirect = tenant.client.post("/stores/tiktok/connect/")
    query = parse_qs(urlparse(redirect["Location"]).query)
    assert redirect["Location"].startswith("http://127.0.0.1:8765/open/authorize?")
    assert query["service_id"] == ["7000000000000000001"]
    state = query["state"][0]
    code = tiktok.consent_code()
    tenant.client.get("/stores/tiktok/callback/", {"code": code, "state": state})
    replay = tenant.client.get("/stores/tiktok/callback/", {"code": tiktok.consent_code(), "state": state}, follow=True)
    assert b"already used" in replay.content


def test_a_forged_state_or_another_sessions_state_is_refused(tenant: Any, make_tenant: Any, tiktok: Any) -> None:
    forged = tenant.client.get(
        "/stores/tiktok/callback/", {"code": tiktok.consent_code(), "state": "forged"}, follow=True
    )
    assert b"unknown, expired or already used" in forged.content
    other = make_tenant("Other Co")
    stolen = parse_qs(urlparse(other.client.post("/stores/tiktok/connect/")["Location"]).query)["state"][0]
    tenant.client.get("/stores/tiktok/callback/", {"code": tiktok.consent_code(), "state": stolen})
    assert Store.unscoped.count() == 0


def test_the_same_shop_cannot_belong_to_two_organizations(tenant: Any, make_tenant: Any, tiktok: Any) -> None:
    tiktok.connect(tenant.client)
    other = make_tenant("Copycat LLC")
    response = tiktok.connect(other.client)
    followed = other.client.get(response["Location"])
    assert b"already connected to another Dropline organization" in followed.content
    assert Store.unscoped.filter(organization=other.organization).count() == 0
    assert Store.unscoped.filter(organization=tenant.organization).count() == 2


def test_reconnecting_updates_the_same_stores(tenant: Any, tiktok: Any) -> None:
    tiktok.connect(tenant.client)
    first = set(Store.unscoped.values_list("pk", flat=True))
    ciphers = set(TikTokShopSettings.unscoped.values_list("cipher", flat=True))
    Store.unscoped.update(status=StoreStatus.NEEDS_ATTENTION, name="stale")
    TikTokShopSettings.unscoped.update(cipher="stale", official_logistics_from=date(2026, 5, 1))
    tiktok.connect(tenant.client)
    assert set(Store.unscoped.values_list("pk", flat=True)) == first
    assert set(Store.unscoped.values_list("status", flat=True)) == {StoreStatus.ACTIVE}
    assert "stale" not in set(Store.unscoped.values_list("name", flat=True))
    # One settings row per shop still: the cipher is the platform's again, the dates the seller set are kept.
    kept = list(TikTokShopSettings.unscoped.values_list("store_id", "cipher", "official_logistics_from"))
    assert {store_id for store_id, _, _ in kept} == first
    assert {cipher for _, cipher, _ in kept} == ciphers
    assert {day for _, _, day in kept} == {date(2026, 5, 1)}


def test_only_store_managers_connect(tenant: Any) -> None:
    assert tenant.client_as(Role.WAREHOUSE).post("/stores/tiktok/connect/").status_code == 403
    assert tenant.client_as(Role.OPERATOR).post("/stores/tiktok/connect/").status_code == 403


def test_tokens_are_encrypted_at_rest_and_never_shown(tenant: Any, tiktok: Any) -> None:
    tiktok.connect(tenant.client)
    authorization = SellerAuthorization.unscoped.get()
    assert authorization.access_token.startswith("TTP_")
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM integrations_sellerauthorization")
        raw_access, raw_refresh = cursor.fetchone()
    assert "TTP_" not in raw_access
    assert "TTP_" not in raw_refresh
    store = Store.unscoped.first()
    for page in ("/stores/", f"/stores/{store.pk}/"):
        assert authorization.access_token not in tenant.client.get(page).content.decode()


def _webhook(client: Client, body: dict[str, Any], secret: str, app_key: str, signed: bool = True) -> int:
    raw = json.dumps(body).encode()
    headers = {"HTTP_AUTHORIZATION": webhook_signature(app_key, secret, raw)} if signed else {}
    return client.post("/webhooks/tiktok/", raw, content_type="application/json", **headers).status_code


def test_webhooks_must_be_signed_and_are_kept_once(tenant: Any, tiktok: Any, settings: Any) -> None:
    tiktok.connect(tenant.client)
    store = Store.unscoped.get(name="Dropline Home US")
    body = {
        "type": 1,
        "tts_notification_id": "7327112393057371910",
        "shop_id": store.external_id,
        "timestamp": 1700000000,
        "data": {"order_id": "576486316948490001", "order_status": "CANCEL", "update_time": 1700000000},
    }
    client = Client()
    key, secret = settings.TIKTOK_APP_KEY, settings.TIKTOK_APP_SECRET
    assert _webhook(client, body, secret, key, signed=False) == 401
    assert _webhook(client, body, "wrong-secret", key) == 401
    # Signed but unreadable: authentication passed, so TikTok hears 200 (a retry would be as unreadable); with no
    # shop to tell whose it is, nothing is recorded (tests/integrations/test_webhook_inbox.py covers the rest).
    assert (
        client.post(
            "/webhooks/tiktok/",
            b"not json",
            content_type="application/json",
            HTTP_AUTHORIZATION=webhook_signature(key, secret, b"not json"),
        ).status_code
        == 200
    )
    assert WebhookDelivery.unscoped.count() == 0
    for _ in range(5):
        assert _webhook(client, body, secret, key) == 200
    assert WebhookDelivery.unscoped.count() == 1


def test_a_deauthorization_webhook_marks_the_stores(
    tenant: Any, tiktok: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tiktok.connect(tenant.client)
    store = Store.unscoped.get(name="Dropline Home US")
    body = {
        "type": 6,
        "tts_notification_id": "1",
        "shop_id": store.external_id,
        "timestamp": 1700000000,
        "data": {"message": "seller deauthorized"},
    }
    with django_capture_on_commit_callbacks(execute=True):  # the worker is woken after the row is committed
        assert _webhook(Client(), body, settings.TIKTOK_APP_SECRET, settings.TIKTOK_APP_KEY) == 200
    assert SellerAuthorization.unscoped.get().status == AuthorizationStatus.REVOKED
    assert set(Store.unscoped.values_list("status", flat=True)) == {StoreStatus.NEEDS_ATTENTION}
    page = tenant.client.get("/stores/").content.decode()
    assert "Reconnect" in page or "approve Dropline again" in page


def test_every_page_warns_when_a_store_needs_attention(tenant: Any, tiktok: Any) -> None:
    tiktok.connect(tenant.client)
    assert b"needs attention" not in tenant.client.get("/").content
    Store.unscoped.filter(name="Dropline Home US").update(status=StoreStatus.NEEDS_ATTENTION)
    page = tenant.client.get("/settings/").content.decode()
    assert "Dropline Home US needs attention" in page
    assert 'href="/stores/"' in page


def test_tokens_and_the_app_secret_never_reach_the_logs(tenant: Any, tiktok: Any, caplog: Any, settings: Any) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    tiktok.connect(tenant.client)  # token exchange: app_secret and the new tokens travel in URLs and bodies
    authorization = SellerAuthorization.unscoped.get()
    tiktok.control("POST", "tokens/expire", access_token=authorization.access_token)
    from erp.tenancy import organization_scope as scope
    from orders.services import store_sync

    store = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    with scope(tenant.organization):
        store_sync(store=store)  # forces a refresh: the refresh token travels too
    authorization.refresh_from_db()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged, "nothing was logged at all: the check would be vacuous"
    for secret in (settings.TIKTOK_APP_SECRET, authorization.access_token, authorization.refresh_token):
        assert secret not in logged


def test_the_stores_page_lets_each_connect_form_reach_its_platforms_consent_page_and_no_other_page_does(
    tenant: Any, settings: Any
) -> None:
    settings.TIKTOK_AUTHORIZE_URL = "https://services.us.tiktokshop.com/open/authorize"
    settings.SHOPIFY_SHOP_URL = "https://{shop}"
    stores = tenant.client.get("/stores/")
    form_action = next(
        part for part in stores["Content-Security-Policy"].split(";") if part.strip().startswith("form-action")
    ).split()
    assert form_action == ["form-action", "'self'", "https://*.myshopify.com", "https://services.us.tiktokshop.com"]
    assert "Connect TikTok Shop" in stores.content.decode()
    assert 'name="shop"' in stores.content.decode()  # Shopify asks for the store's address first
    orders = tenant.client.get("/orders/")
    assert "myshopify" not in orders["Content-Security-Policy"]
    assert "tiktokshop" not in orders["Content-Security-Policy"]


def test_a_shop_address_that_names_no_shop_is_refused_with_the_fix(tenant: Any) -> None:
    answer = tenant.client.post("/stores/shopify/connect/", {"shop": "not a shop!"}, follow=True)
    assert answer.redirect_chain[-1][0] == "/stores/"
    assert "myshopify.com" in answer.content.decode()
    assert tenant.client.session.get("dropline_oauth_states", {}) == {}  # no state kept for it
