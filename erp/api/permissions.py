from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from erp.api.errors import InsufficientScope, WarehouseBound
from erp.models import APIKey
from erp.roles import Access, ResourceFamily, scope_covers


class HasOrganizationPermission(permissions.BasePermission):
    """The caller may use this view for this method (docs/adr/0021-partner-api-semantics.md):

    * a warehouse-bound caller (a supplier's or 3PL's key, a supplier member) only views marked `warehouse_scoped`,
      and only once it has a warehouse;
    * an API key only with a scope covering the view's resource family for the access (read for GET/HEAD/OPTIONS,
      write otherwise), and then the permission the view names, as that family's scope lends it;
    * a member through their role's permissions.
    A refusal says which of these failed, with its own code."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(request, "organization", None) is None:
            return False
        needed = view.required_permission(request.method)
        if getattr(request, "warehouse_bound", False):
            if not view.warehouse_scoped:
                raise WarehouseBound()
            if request.warehouse_scope is None:
                raise WarehouseBound("No warehouse is assigned to you yet: ask the seller to give you one.")
        if isinstance(request.auth, APIKey):
            family = ResourceFamily(view.resource_family)
            access = Access.READ if request.method in permissions.SAFE_METHODS else Access.WRITE
            if not scope_covers(request.auth.scopes, family, access):
                raise InsufficientScope(
                    f"This API key lacks the `{family.value}:{access.value}` scope. Create a key with it under "
                    "Settings → API keys."
                )
        return needed is not None and needed in request.permissions
