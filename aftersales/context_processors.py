from typing import Any

from django.http import HttpRequest

from erp.roles import Perm


def to_decide(request: HttpRequest) -> dict[str, Any]:
    """How many after-sale requests wait for the seller, beside the inbox links on every page."""
    if getattr(request, "organization", None) is None or Perm.VIEW not in getattr(request, "permissions", ()):
        return {}
    from aftersales.selectors import to_decide_counts

    return {"aftersales_to_decide": to_decide_counts()}
