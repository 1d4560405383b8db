"""The base of every dashboard view: signed in, inside an organization, holding the permission the view names."""

from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from erp.roles import Perm

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class OrganizationViewMixin(LoginRequiredMixin):
    read_permission: ClassVar[Perm] = Perm.VIEW
    write_permission: ClassVar[Perm | None] = None  # None: the view accepts no writes

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.organization is None:
            return redirect("organization_create")
        needed = self.read_permission if request.method in SAFE_METHODS else self.write_permission
        if needed is None or needed not in request.permissions:
            raise PermissionDenied("Your role in this organization does not allow this.")
        return super().dispatch(request, *args, **kwargs)
