"""Token health: refresh access tokens before they expire."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from erp.models import Organization
from erp.tasks import task
from erp.tenancy import organization_scope
from integrations import services
from integrations.errors import PlatformError
from integrations.models import AuthorizationStatus, SellerAuthorization, Store

REFRESH_AHEAD = timedelta(hours=24)
WEBHOOK_WAKE_GRACE = timedelta(seconds=30)  # a pending notification younger than this still has its wake-up coming


@task(name="integrations.webhook_process")
def webhook_process(*, organization: Organization, delivery_id: str) -> str:
    return services.webhook_process(delivery_id=delivery_id)


@task(name="integrations.webhooks_process_due", tenant=False)
def webhooks_process_due(grace_seconds: float | None = None, limit: int = 500) -> int:
    """Beat: process every notification still owed its work (its wake-up was lost with the broker, its worker died,
    or its work failed and is due again), in this task, oldest first."""
    grace = WEBHOOK_WAKE_GRACE if grace_seconds is None else timedelta(seconds=grace_seconds)
    due = services.webhooks_due(grace=grace, limit=limit)
    organizations = Organization.objects.in_bulk({organization_id for _, organization_id in due})
    for delivery_id, organization_id in due:
        with organization_scope(organizations[organization_id]):
            services.webhook_process(delivery_id=delivery_id)
    return len(due)


@task(name="integrations.register_webhooks", autoretry_for=(PlatformError,), retry_backoff=30, max_retries=5)
def register_webhooks(*, organization: Organization, store_id: str) -> list[str]:
    store = Store.objects.select_related("authorization").filter(pk=store_id).first()
    return services.store_webhooks_register(store=store) if store is not None else []


@task(name="integrations.refresh_authorization")
def refresh_authorization(*, organization: Organization, authorization_id: str) -> None:
    authorization = SellerAuthorization.objects.filter(pk=authorization_id).first()
    if authorization is not None:
        services.authorization_refresh(authorization=authorization)


@task(name="integrations.refresh_expiring_tokens", tenant=False)
def refresh_expiring_tokens() -> int:
    """Beat: refresh every usable authorization whose access token expires within a day."""
    expiring = SellerAuthorization.unscoped.filter(  # the scheduler serves every organization
        status__in=[AuthorizationStatus.ACTIVE, AuthorizationStatus.EXPIRING],
        access_token_expires_at__lt=timezone.now() + REFRESH_AHEAD,
    ).values_list("pk", "organization_id")
    for authorization_id, organization_id in expiring:
        refresh_authorization.delay(organization_id=str(organization_id), authorization_id=str(authorization_id))
    return len(expiring)
