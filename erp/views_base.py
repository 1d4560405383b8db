"""The base of every dashboard view: signed in, inside an organization, holding the permission the view names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from erp.actors import Actor
from erp.roles import Perm

if TYPE_CHECKING:
    from erp.models import Organization

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


@dataclass(frozen=True)
class Caller:
    """Who a request acts for, typed: what OrganizationMiddleware (dashboard) or the API base view set on it."""

    organization: Organization
    actor: Actor
    permissions: frozenset[Perm]


def request_caller(request: Any) -> Caller:
    """The caller of a request that passed OrganizationViewMixin or the API base view (both refuse a request
    without an organization before a view's method runs)."""
    return Caller(organization=request.organization, actor=request.actor, permissions=request.permissions)
