"""A Shopify store through Dropline's own views, end to end: connected from the Stores page, then the merchant's
privacy requests and uninstall arrive as signed webhooks at /webhooks/shopify/ and are done: the named orders' personal
data erased and audited, the store marked as needing attention with the fix on the Stores page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from erp.models import AuditEntry
from erp.tenancy import organization_scope
from integrations.models import AuthorizationStatus, Store, StoreStatus, WebhookDelivery
from orders.models import Order
from tests.integrations.shopify.conftest import SHOP, Sandbox
from tests.integrations.shopify.test_webhooks import receiver  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def _connect(tenant: Any, sandbox: Sandbox) -> Store:
    start = tenant.client.post("/stores/shopify/connect/", {"shop": "dropline-demo"})
    assert start.status_code == 302
    consent = sandbox.control_http.get(start["Location"])
    assert consent.status_code == 302
    back = urlsplit(consent.headers["location"])
    assert tenant.client.get(f"{back.path}?{back.query}").status_code == 302
    return Store.unscoped.select_related("authorization").get(platform="shopify", external_id=SHOP)


def _deliver(tenant: Any, got: list[tuple[dict[str, str], bytes]], capture: Callable[..., Any]) -> list[int]:
    """Hand every delivery the sandbox made to Dropline's webhook view, byte for byte, and run the work it wakes."""
    statuses = []
    for headers, body in got:
        forwarded = {k: v for k, v in headers.items() if k.startswith("x-shopify-")}
        with capture(execute=True):
            answer = tenant.client.post(
                "/webhooks/shopify/", data=body, content_type="application/json", headers=forwarded
            )
        statuses.append(answer.status_code)
    return statuses


def test_privacy_requests_and_uninstall_are_done_through_the_webhook_view(
    tenant: Any,
    sandbox: Sandbox,
    receiver: Any,  # noqa: F811
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    address, got = receiver
    sandbox.control(
        "PUT",
        "/sandbox/apps/webhooks",
        json={
            "subscriptions": [
                {
                    "compliance_topics": ["customers/redact", "customers/data_request"],
                    "topics": ["app/uninstalled"],
                    "uri": address,
                }
            ]
        },
    )
    store = _connect(tenant, sandbox)
    with organization_scope(tenant.organization):
        from orders.services import store_sync

        store_sync(store=store)
        imported = Order.objects.filter(store=store, has_address=True).exclude(recipient_name="").first()
    assert imported is not None
    email = next(
        o
        for o in sandbox.control("GET", "/sandbox/orders", params={"shop": SHOP})["orders"]
        if o["id"].endswith(imported.external_id)
    )["email"]

    sandbox.control("POST", "/sandbox/privacy/customers-redact", json={"shop": SHOP, "email": email})
    sandbox.control("POST", "/sandbox/webhooks/flush")
    assert _deliver(tenant, got, django_capture_on_commit_callbacks) == [200] * len(got)
    with organization_scope(tenant.organization):
        imported.refresh_from_db()
        assert (imported.recipient_name, imported.address_line1, imported.address_masked) == ("", "", True)
        assert AuditEntry.objects.filter(action="privacy.customer_redacted").count() == 1
        assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"processed"}

    got.clear()
    sandbox.control("POST", "/sandbox/apps/uninstall", json={"shop": SHOP})
    sandbox.control("POST", "/sandbox/webhooks/flush")
    tampered = [(headers, body.replace(b"dropline", b"droplime")) for headers, body in got]
    assert _deliver(tenant, tampered, django_capture_on_commit_callbacks) == [401] * len(got)
    assert _deliver(tenant, got, django_capture_on_commit_callbacks) == [200] * len(got)
    store.refresh_from_db()
    store.authorization.refresh_from_db()
    assert store.status == StoreStatus.NEEDS_ATTENTION
    assert store.authorization.status == AuthorizationStatus.REVOKED
    page = tenant.client.get("/stores/").content.decode()
    assert "access in Shopify (uninstalled the app" in page
    assert "Connect Shopify" in page  # the fix: connect it again, nothing is lost
