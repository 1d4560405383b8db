"""Token health: refresh access tokens before they expire."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from erp.models import Organization
from erp.tasks import task
from integrations import services
from integrations.errors import PlatformError
from integrations.models import AuthorizationStatus, SellerAuthorization, Store

REFRESH_AHEAD = timedelta(hours=24)


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
