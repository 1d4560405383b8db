"""The base of every tenant API view. It cannot be bypassed:

* after authentication it opens the tenant scope of the caller's organization (from the API key, or the session's
  current organization) and closes it in `finally`;
* `get_queryset()` is final: subclasses implement `get_scoped_queryset()`, and the base filters its result by the
  organization once more, so even a hook written with `Model.unscoped` cannot leak another tenant's rows;
* every view names the permission each method needs (`read_permission`, `write_permission`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.template.response import SimpleTemplateResponse
from rest_framework import generics, mixins, viewsets
from rest_framework.request import Request

from erp.actors import Actor
from erp.roles import Perm
from erp.tenancy import TenantModel, activate_organization, reset_organization

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class OrganizationAPIMixin:
    model: ClassVar[type[TenantModel]]
    read_permission: ClassVar[Perm] = Perm.VIEW
    write_permission: ClassVar[Perm | None] = None  # None: the endpoint is read-only for everyone

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__ or "queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__}: implement get_scoped_queryset(), not get_queryset()/queryset")

    def required_permission(self, method: str) -> Perm | None:
        return self.read_permission if method in SAFE_METHODS else self.write_permission

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        token = activate_organization(None)  # each API request decides its own organization
        try:
            response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
            if isinstance(response, SimpleTemplateResponse):
                response.render()  # the browsable API renders forms from querysets: still inside the scope
            return response
        finally:
            reset_organization(token)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # A method the endpoint does not serve is 405 for everyone, before authentication or permissions decide.
        if not hasattr(self, request.method.lower()):
            self.http_method_not_allowed(request, *args, **kwargs)
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)  # type: ignore[misc]
        api_key = request.auth if isinstance(request.auth, TenantModel) else None
        django_request = request._request
        if api_key is not None:
            request.organization = api_key.organization
            request.permissions = api_key.permissions
            request.actor = Actor.for_api_key(api_key, ip_address=django_request.META.get("REMOTE_ADDR"))
        else:
            request.organization = getattr(django_request, "organization", None)
            request.permissions = getattr(django_request, "permissions", frozenset())
            request.actor = getattr(django_request, "actor", None)
        activate_organization(request.organization)

    def get_scoped_queryset(self) -> QuerySet:
        return self.model.objects.all()

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no organization
            return self.model.unscoped.none()
        return self.get_scoped_queryset().filter(organization=self.request.organization)


class OrganizationGenericAPIView(OrganizationAPIMixin, generics.GenericAPIView):
    pass


class OrganizationReadOnlyViewSet(OrganizationAPIMixin, viewsets.ReadOnlyModelViewSet):
    pass


class OrganizationViewSet(
    OrganizationAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """List and retrieve; subclasses add create/update/destroy actions that call services."""
