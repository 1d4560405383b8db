"""Secrets never reach the logs on the Shopify channel either (the TikTok version is
tests/integrations/test_stores.py::test_tokens_and_the_app_secret_never_reach_the_logs): the client secret, the
OAuth code, the access and refresh tokens (before and after a rotation) and the webhooks' HMAC signatures, through
connect, sync, a token refresh and signed (and tampered) webhook deliveries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from erp.tenancy import organization_scope
from integrations.models import SellerAuthorization
from tests.integrations.shopify.conftest import SHOP, Sandbox
from tests.integrations.shopify.test_store_lifecycle import _connect, _deliver
from tests.integrations.shopify.test_webhooks import receiver  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def test_tokens_the_client_secret_and_webhook_signatures_never_reach_the_logs(
    tenant: Any,
    sandbox: Sandbox,
    receiver: Any,  # noqa: F811
    settings: Any,
    caplog: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from orders.services import store_sync

    caplog.set_level(logging.DEBUG)
    address, got = receiver
    sandbox.control(
        "PUT",
        "/sandbox/apps/webhooks",
        json={"subscriptions": [{"topics": ["orders/create", "orders/updated"], "uri": address}]},
    )
    # Connect (the code and the client secret travel; tokens come back), then sync (the token in every request).
    store = _connect(tenant, sandbox)
    first = SellerAuthorization.unscoped.get(pk=store.authorization.pk)
    with organization_scope(tenant.organization):
        store_sync(store=store)
    # A token about to expire is refreshed (the refresh token travels, a new pair comes back).
    soon = timezone.now() + timedelta(seconds=5)
    SellerAuthorization.unscoped.filter(pk=first.pk).update(access_token_expires_at=soon)
    store.refresh_from_db()
    store.authorization.refresh_from_db()
    with organization_scope(tenant.organization):
        store_sync(store=store)
    second = SellerAuthorization.unscoped.get(pk=first.pk)
    # Signed webhooks, and the same ones tampered with (refused, and the refusal logged).
    sandbox.control("POST", "/sandbox/orders", json={"shop": SHOP, "lines": [{"sku": "LED-WHT"}]})
    sandbox.control("POST", "/sandbox/webhooks/flush")
    assert got, "the sandbox delivered no webhook: the check would be vacuous"
    tampered = [(headers, body.replace(b"{", b"{ ", 1)) for headers, body in got]
    assert set(_deliver(tenant, tampered, django_capture_on_commit_callbacks)) == {401}
    assert set(_deliver(tenant, got, django_capture_on_commit_callbacks)) == {200}

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "webhook refused" in logged, "the refusals were not logged: the check would be vacuous"
    secrets = {
        "client secret": settings.SHOPIFY_CLIENT_SECRET,
        "first access token": first.access_token,
        "latest access token": second.access_token,
        **{f"webhook HMAC {i}": headers["x-shopify-hmac-sha256"] for i, (headers, _) in enumerate(got)},
    }
    if first.refresh_token:
        secrets |= {"first refresh token": first.refresh_token, "latest refresh token": second.refresh_token}
    assert second.access_token != first.access_token, "no refresh happened: the check would be incomplete"
    leaked = sorted(name for name, secret in secrets.items() if secret and secret in logged)
    assert not leaked, f"logged: {leaked}"
