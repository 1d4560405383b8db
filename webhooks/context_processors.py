from typing import Any

from django.http import HttpRequest

from erp.roles import Perm
from webhooks.models import WebhookEndpoint
from webhooks.services import AUTO_DISABLED_REASON_PREFIX


def disabled_endpoints(request: HttpRequest) -> dict[str, Any]:
    """For the banner: endpoints Dropline disabled after days of failure (people who manage webhooks only)."""
    if getattr(request, "organization", None) is None or Perm.WEBHOOKS_MANAGE not in getattr(
        request, "permissions", frozenset()
    ):
        return {}
    return {
        "webhooks_auto_disabled": list(
            WebhookEndpoint.objects.filter(
                enabled=False, disabled_reason__startswith=AUTO_DISABLED_REASON_PREFIX
            ).values_list("url", flat=True)[:5]
        )
    }
