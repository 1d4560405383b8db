"""Thin tasks: send an organization's due deliveries (woken after an event commits), and beat's sweep, which finds
retries that fell due and deliveries whose worker died (expired leases)."""

from __future__ import annotations

from typing import Any

from erp.tasks import task, wake


@task(name="webhooks.deliveries_send")
def deliveries_send(*, organization: Any) -> int:
    from webhooks.sender import deliveries_send_due

    return deliveries_send_due()


@task(name="webhooks.deliveries_sweep", tenant=False)
def deliveries_sweep() -> int:
    from webhooks.sender import organizations_with_due_deliveries

    organization_ids = organizations_with_due_deliveries()
    for organization_id in organization_ids:
        wake(deliveries_send, organization_id=organization_id)
    return len(organization_ids)
