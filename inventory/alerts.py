"""Low-stock alerts: open one per SKU when it falls to its threshold, mail owners and admins once, close it when the
SKU recovers. Run by beat; safe to run any number of times (an alert is opened and mailed once)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from erp.models import Membership
from erp.roles import Role
from erp.tasks import email_send
from erp.tenancy import current_organization
from inventory import selectors
from inventory.models import LowStockAlert
from webhooks.services import event_publish


@dataclass(frozen=True)
class AlertResult:
    opened: int
    closed: int
    mailed_to: int


def _sku_payload(sku_id: object) -> dict[str, object]:
    from inventory.api.serializers import SkuOutput

    return dict(SkuOutput(selectors.skus_with_totals().get(pk=sku_id)).data)


@transaction.atomic
def low_stock_alerts_update() -> AlertResult:
    low = {sku.pk: sku for sku in selectors.skus_low_stock()}
    open_alerts = {alert.sku_id: alert for alert in LowStockAlert.objects.select_for_update().filter(closed_at=None)}
    now = timezone.now()
    recovered = [alert.pk for sku_id, alert in open_alerts.items() if sku_id not in low]
    if recovered:
        LowStockAlert.objects.filter(pk__in=recovered).update(closed_at=now)
    new = [
        LowStockAlert(sku=sku, available=sku.available_total, opened_at=now, notified_at=now)
        for sku_id, sku in low.items()
        if sku_id not in open_alerts
    ]
    for alert in new:
        alert.save()
        event_publish(
            organization=current_organization(),
            type="stock.low",
            object_type="sku",
            object_id=alert.sku_id,
            data=lambda alert=alert: _sku_payload(alert.sku_id),
        )
    recipients = []
    if new:
        recipients = list(
            Membership.objects.filter(role__in=[Role.OWNER, Role.ADMIN]).values_list("user__email", flat=True)
        )
        organization = current_organization()
        if recipients:
            email_send.delay_on_commit(
                to=recipients,
                subject=f"Low stock at {organization.name}: {len(new)} SKU{'s' if len(new) != 1 else ''}",
                body=render_to_string("emails/low_stock.txt", {"organization": organization, "alerts": new}),
            )
    return AlertResult(opened=len(new), closed=len(recovered), mailed_to=len(recipients) if new else 0)
