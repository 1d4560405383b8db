from typing import Any

from rest_framework import permissions
from rest_framework.request import Request


class HasOrganizationPermission(permissions.BasePermission):
    """The caller's role (or API key scope) grants the permission the view names for this method."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(request, "organization", None) is None:
            return False
        needed = view.required_permission(request.method)
        return needed is not None and needed in request.permissions
