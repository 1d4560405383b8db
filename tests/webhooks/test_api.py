"""The webhook endpoints API: the secret shown once, SSRF as a clear 400, permissions, tenancy (another
organization's endpoint is 404), rotation, test event, delivery log, redelivery one and many, enable."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from erp.actors import Actor
from erp.roles import APIKeyScope, Role
from erp.services import api_key_create
from erp.tenancy import organization_scope
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
BASE = "/api/v1/webhook-endpoints/"


def api(tenant: Any) -> Client:
    """A partner system's key that may subscribe its receiver: the write preset plus `webhooks:write`, which no
    preset grants (a subscription sends the organization's data out: it is chosen on purpose)."""
    _, key = api_key_create(
        organization=tenant.organization,
        actor=Actor.for_user(tenant.owner),
        name="Partner WMS",
        scope=APIKeyScope.WRITE,
        scopes=["webhooks:write"],
    )
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


def create(client: Client, **body: Any) -> Any:
    payload = {"url": "https://hooks.example.com/in", "events": ["order.held", "order.released"], **body}
    return client.post(BASE, payload, content_type="application/json")


def test_create_returns_the_secret_once_and_lists_never_do(tenant: Any) -> None:
    client = api(tenant)
    response = create(client, description="Our WMS")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["order.held", "order.released"]
    assert created["enabled"] is True
    listed = client.get(BASE).json()
    assert [e["id"] for e in listed["results"]] == [created["id"]]
    assert "secret" not in listed["results"][0]
    assert "secret" not in client.get(f"{BASE}{created['id']}/").json()
    with organization_scope(tenant.organization):
        stored = WebhookEndpoint.objects.get()
        assert stored.secret == created["secret"]
    from django.db import connection

    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT secret FROM webhooks_webhookendpoint")
        assert created["secret"] not in cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "http://hooks.example.com/in"}, "url", "https://"),
        ({"url": "https://127.0.0.1/in"}, "url", "cannot receive webhooks"),
        ({"url": "https://169.254.169.254/latest/"}, "url", "cannot receive webhooks"),
        ({"events": ["order.exploded"]}, "events", ""),
        ({"events": []}, "events", ""),
    ],
)
def test_bad_urls_and_events_are_clear_400s(tenant: Any, settings: Any, body: Any, field: str, message: str) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    response = create(api(tenant), **body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["type"] == "validation_error"
    assert message in " ".join(error["fields"][field])
    with organization_scope(tenant.organization):
        assert not WebhookEndpoint.objects.exists()


def test_every_event_is_star_and_the_schema_lists_the_event_types(tenant: Any) -> None:
    response = create(api(tenant), events=["*"])
    assert response.status_code == 201
    assert response.json()["events"] == ["*"]
    schema = tenant.client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    text = str(schema["components"]["schemas"])
    for event in ("order.imported", "label.purchased", "store.needs_attention", "*"):
        assert f"'{event}'" in text


def test_patch_rotate_test_enable_and_delete(tenant: Any, settings: Any) -> None:
    client = api(tenant)
    endpoint = create(client).json()
    url = f"{BASE}{endpoint['id']}/"
    patched = client.patch(url, {"events": ["*"], "description": "All"}, content_type="application/json").json()
    assert (patched["events"], patched["description"]) == (["*"], "All")
    rotated = client.post(f"{url}rotate-secret/").json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != endpoint["secret"]
    assert client.get(url).json()["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
    ping = client.post(f"{url}test/")
    assert ping.status_code == 202
    assert ping.json()["event_type"] == "ping"
    assert client.post(f"{url}disable/").json()["enabled"] is False
    assert client.post(f"{url}enable/").json()["enabled"] is True
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_the_delivery_log_and_redelivery(tenant: Any) -> None:
    client = api(tenant)
    endpoint = create(client, events=["*"]).json()
    from webhooks.services import event_publish

    with organization_scope(tenant.organization):
        for n in range(3):
            event_publish(
                organization=tenant.organization, type="order.held", object_type="order", object_id=f"o{n}", data={}
            )
        WebhookDelivery.objects.update(status=DeliveryStatus.FAILED, last_status_code=500, attempts=15)
    url = f"{BASE}{endpoint['id']}/"
    log = client.get(f"{url}deliveries/").json()["results"]
    assert len(log) == 3
    assert {d["status"] for d in log} == {"failed"}
    assert log[0]["event_id"].startswith("evt_")
    assert {"last_status_code", "last_duration_ms", "last_response_excerpt", "attempts", "attempt_log"} <= set(log[0])
    one = client.post(f"{url}deliveries/{log[0]['id']}/redeliver/")
    assert one.status_code == 202
    assert one.json()["status"] == "pending"
    assert client.post(f"{url}deliveries/not-an-id/redeliver/").status_code == 400
    many = client.post(f"{url}redeliver/", {"status": "failed"}, content_type="application/json")
    assert many.json() == {"redelivered": 2}
    assert client.post(f"{url}redeliver/", {}, content_type="application/json").status_code == 400
    with organization_scope(tenant.organization):
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}


def test_viewers_operators_and_read_keys_may_not_manage_webhooks(tenant: Any) -> None:
    for role in (Role.VIEWER, Role.OPERATOR, Role.WAREHOUSE):
        client = tenant.client_as(role)
        assert client.get(BASE).status_code == 403
        assert create(client).status_code == 403
    _, read_key = api_key_create(
        organization=tenant.organization, actor=Actor.for_user(tenant.owner), name="ro", scope=APIKeyScope.READ
    )
    assert Client(HTTP_AUTHORIZATION=f"Api-Key {read_key}").get(BASE).status_code == 403
    assert create(tenant.client_as(Role.ADMIN)).status_code == 201
    assert create(tenant.client).status_code == 201  # the owner, signed in


def test_another_organizations_endpoint_and_deliveries_are_404(make_tenant: Any) -> None:
    a, b = make_tenant("Alpha"), make_tenant("Bravo")
    endpoint = create(api(a)).json()
    with organization_scope(a.organization):
        event = WebhookEvent.objects.create(type="order.held", object_type="order", object_id="o", data={})
        delivery = WebhookDelivery.objects.create(
            event=event, endpoint_id=endpoint["id"], object_type="order", object_id="o"
        )
    url = f"{BASE}{endpoint['id']}/"
    client = api(b)
    assert client.get(url).status_code == 404
    assert client.get(f"{url}deliveries/").status_code == 404
    assert client.post(f"{url}rotate-secret/").status_code == 404
    assert client.post(f"{url}deliveries/{delivery.pk}/redeliver/").status_code == 404
    assert client.delete(url).status_code == 404
    assert client.get(BASE).json()["results"] == []
    # A's delivery id through B's own endpoint is 404 too.
    own = create(client).json()
    assert client.post(f"{BASE}{own['id']}/deliveries/{delivery.pk}/redeliver/").status_code == 404
