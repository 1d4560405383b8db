"""A webhook endpoint's signing secrets never reach the logs: not when it is created, rotated, tested, nor on the
deliveries that fail (whose errors and answers are logged) or succeed, signed with both secrets during a rotation."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from erp.actors import Actor
from erp.tenancy import organization_scope
from tests.webhooks.receiver import Receiver
from webhooks import services
from webhooks.sender import deliveries_send_due

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_signing_secrets_and_signatures_never_reach_the_logs(
    tenant: Any, receiver: Receiver, settings: Any, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    actor = Actor.for_user(tenant.owner)
    with organization_scope(tenant.organization):
        endpoint, first = services.endpoint_create(
            organization=tenant.organization, actor=actor, url=receiver.url, events=["*"]
        )
        second = services.endpoint_rotate_secret(endpoint=endpoint, actor=actor)  # both sign for a while
        services.endpoint_test(endpoint=endpoint, actor=actor)
        assert deliveries_send_due() == 1
        settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False  # the next attempt is refused, and the refusal logged
        services.event_publish(
            organization=tenant.organization, type="order.held", object_type="order", object_id="o-1", data={}
        )
        assert deliveries_send_due() == 1

    assert receiver.received, "nothing was delivered: the check would be vacuous"
    signatures = [request.headers["Dropline-Signature"] for request in receiver.received]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged, "nothing was logged: the check would be vacuous"
    leaked = [name for name, value in {"first secret": first, "second secret": second}.items() if value in logged]
    leaked += [f"signature {n}" for n, header in enumerate(signatures) if header.split("v1=", 1)[1][:16] in logged]
    assert not leaked, f"logged: {leaked}"
