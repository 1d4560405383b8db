from typing import Any

from django.http import HttpRequest

from integrations.models import StoreStatus


def store_health(request: HttpRequest) -> dict[str, Any]:
    """How many of the organization's stores need attention, for the banner on every page."""
    if getattr(request, "organization", None) is None:
        return {}
    from integrations.models import Store

    return {
        "stores_needing_attention": Store.objects.filter(status=StoreStatus.NEEDS_ATTENTION).values_list(
            "name", flat=True
        )
    }
