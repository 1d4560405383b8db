"""Settings → Webhooks: add (the secret shown once, SSRF as a form error), the delivery log, redeliver, test, rotate,
disable/enable, delete; the banner when Dropline disabled an endpoint; members without the permission get 403."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from erp.roles import Role
from erp.tenancy import organization_scope
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_add_an_endpoint_and_see_its_secret_once(tenant: Any, settings: Any) -> None:
    page = tenant.client.post(
        "/settings/webhooks/", {"url": "https://hooks.example.com/in", "events": ["order.held", "label.purchased"]}
    )
    assert page.status_code == 200
    assert b"whsec_" in page.content
    listing = tenant.client.get("/settings/webhooks/")
    assert b"hooks.example.com/in" in listing.content
    assert b"whsec_" not in listing.content
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    refused = tenant.client.post("/settings/webhooks/", {"url": "https://10.0.0.8/in", "events": ["*"]})
    assert refused.status_code == 200
    assert b"cannot receive webhooks" in refused.content
    with organization_scope(tenant.organization):
        assert WebhookEndpoint.objects.count() == 1


def test_the_endpoint_page_log_and_actions(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        endpoint, _ = services.endpoint_create(
            organization=tenant.organization, actor=_actor(), url="https://hooks.example.com/in", events=["*"]
        )
        services.event_publish(
            organization=tenant.organization, type="order.held", object_type="order", object_id="o", data={}
        )
        WebhookDelivery.objects.update(status=DeliveryStatus.FAILED, last_status_code=503, attempts=15)
        delivery = WebhookDelivery.objects.get()
    url = f"/settings/webhooks/{endpoint.pk}/"
    page = tenant.client.get(url)
    assert b"order.held" in page.content
    assert b"HTTP 503" in page.content
    assert tenant.client.post(url, {"action": "redeliver", "delivery": [str(delivery.pk)]}).status_code == 302
    with organization_scope(tenant.organization):
        assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING
    rotated = tenant.client.post(url, {"action": "rotate"})
    assert b"whsec_" in rotated.content
    assert tenant.client.post(url, {"action": "test"}).status_code == 302
    assert tenant.client.post(url, {"action": "disable"}).status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    tenant.client.post(url, {"action": "enable"})
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert tenant.client.post(f"{url}delete/").status_code == 302
    assert tenant.client.get(url).status_code == 404


def test_a_banner_when_dropline_disabled_an_endpoint(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        endpoint, _ = services.endpoint_create(
            organization=tenant.organization, actor=_actor(), url="https://hooks.example.com/down", events=["*"]
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - services.AUTO_DISABLE_AFTER
        )
        assert services.endpoint_auto_disable_if_due(endpoint_id=endpoint.pk, now=timezone.now())
    page = tenant.client.get("/")
    assert b'data-testid="webhooks-disabled-banner"' in page.content
    assert b"hooks.example.com/down" in page.content
    assert b"webhooks-disabled-banner" not in tenant.client_as(Role.VIEWER).get("/").content


def test_members_without_the_permission_get_403(tenant: Any) -> None:
    for role in (Role.VIEWER, Role.OPERATOR):
        assert tenant.client_as(role).get("/settings/webhooks/").status_code == 403


def _actor() -> Any:
    from erp.actors import Actor

    return Actor.system("test")
