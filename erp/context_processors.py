from typing import Any

from django.http import HttpRequest

from erp.roles import Perm


def organization(request: HttpRequest) -> dict[str, Any]:
    permissions: frozenset[Perm] = getattr(request, "permissions", frozenset())
    return {
        "organization": getattr(request, "organization", None),
        "membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", []),
        # Templates ask `perms_org.stores_manage` and the like to show or hide buttons.
        "perms_org": {perm.name.lower(): perm in permissions for perm in Perm},
    }
