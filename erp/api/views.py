"""The base of every tenant API view. It cannot be bypassed:

* after authentication it opens the tenant scope of the caller's organization (from the API key, or the session's
  current organization) and closes it in `finally`;
* `get_queryset()` is final: subclasses implement `get_scoped_queryset()`, and the base filters its result by the
  organization once more, so even a hook written with `Model.unscoped` cannot leak another tenant's rows;
* every view names its resource family (`resource_family`) and the permission each method needs
  (`read_permission`, `write_permission`); an API key needs its family's scope *and* the permission
  (erp.api.permissions); a warehouse-bound caller may use only `warehouse_scoped` views, which filter by
  `request.warehouse_scope`;
* the partner semantics every endpoint shares, without a line in the view (docs/adr/0021-partner-api-semantics.md):
  `Idempotency-Key` on every POST, rate-limit headers on every answer, weak ETags with `If-None-Match` (304) on
  GETs and `If-Match` (412) on PATCH/PUT, and `?fields=` on every GET.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.template.response import SimpleTemplateResponse
from rest_framework import exceptions, generics, mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from erp.actors import Actor
from erp.api import conditional, idempotency
from erp.api.fields import select_fields
from erp.api.throttling import rate_limit_headers
from erp.models import APIKey
from erp.roles import Perm, ResourceFamily, Role
from erp.tenancy import TenantModel, activate_organization, reset_organization

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

Handler = Callable[..., Any]


class OrganizationAPIMixin:
    model: ClassVar[type[TenantModel]]
    resource_family: ClassVar[str]  # one of erp.roles.ResourceFamily: what an API key's scope must cover
    warehouse_scoped: ClassVar[bool] = False  # True: serves warehouse-bound callers, filtered by warehouse_scope
    read_permission: ClassVar[Perm] = Perm.VIEW
    write_permission: ClassVar[Perm | None] = None  # None: the endpoint is read-only for everyone
    api_view_base: ClassVar[bool] = True  # only the bases below say so (in their own body): they need no family

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__ or "queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__}: implement get_scoped_queryset(), not get_queryset()/queryset")
        if "api_view_base" not in cls.__dict__:
            cls.api_view_base = False
        if not cls.api_view_base:
            family = getattr(cls, "resource_family", None)
            if family is None:
                raise TypeError(f"{cls.__name__}: declare resource_family (one of erp.roles.ResourceFamily)")
            cls.resource_family = ResourceFamily(family)  # an unknown family fails here, at import

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
        self._wrap_handler(request)

    # ------------------------------------------------------------------------------------ who is calling
    def perform_authentication(self, request: Request) -> None:
        try:
            super().perform_authentication(request)  # type: ignore[misc]
        except exceptions.APIException:
            self.check_throttles(request)  # a wrong key is counted (per address) and answered with the headers
            raise
        api_key = request.auth if isinstance(request.auth, APIKey) else None
        django_request = request._request
        request.warehouse_scope = None
        if api_key is not None:
            request.organization = api_key.organization
            request.permissions = api_key.permissions_for(ResourceFamily(self.resource_family))
            request.actor = Actor.for_api_key(api_key, ip_address=django_request.META.get("REMOTE_ADDR"))
            request.warehouse_bound = api_key.warehouse_id is not None
            request.warehouse_scope = api_key.warehouse
        else:
            request.organization = getattr(django_request, "organization", None)
            request.permissions = getattr(django_request, "permissions", frozenset())
            request.actor = getattr(django_request, "actor", None)
            membership = getattr(django_request, "membership", None)
            # A supplier member works for one warehouse, like a warehouse-bound key (their portal's rule).
            request.warehouse_bound = membership is not None and membership.role == Role.SUPPLIER
            if request.warehouse_bound:
                request.warehouse_scope = _supplier_warehouse(membership)
        activate_organization(request.organization)

    # ---------------------------------------------------------------------------------------- rate limits
    def check_permissions(self, request: Request) -> None:
        # Throttle first, so every answer after authentication (a 403 too) is counted and carries the headers.
        self.check_throttles(request)
        super().check_permissions(request)  # type: ignore[misc]

    def check_throttles(self, request: Request) -> None:
        if getattr(self, "_throttles", None) is not None:
            return  # counted once per request
        self._throttles = self.get_throttles()  # type: ignore[attr-defined]
        waits = [throttle.wait() for throttle in self._throttles if not throttle.allow_request(request, self)]
        if waits:
            self.throttled(request, max((wait for wait in waits if wait is not None), default=None))  # type: ignore[attr-defined]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        for throttle in getattr(self, "_throttles", None) or ():
            for name, value in rate_limit_headers(throttle).items():
                response.setdefault(name, value)
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]

    # --------------------------------------------------- what every handler gets without a line in the view
    def _wrap_handler(self, request: Request) -> None:
        method = request.method.lower()
        handler: Handler | None = getattr(self, method, None)
        if handler is None:
            return
        if method == "get":
            setattr(self, method, self._shaped_get(handler))
        elif method == "post" and request.headers.get(idempotency.HEADER, "").strip():
            setattr(self, method, self._idempotent(handler))
        elif method in ("patch", "put") and request.headers.get("If-Match", "").strip():
            setattr(self, method, self._if_match(handler))

    def _shaped_get(self, handler: Handler) -> Handler:
        def get(request: Request, *args: Any, **kwargs: Any) -> Any:
            response = handler(request, *args, **kwargs)
            if not isinstance(response, Response) or response.status_code != 200 or response.data is None:
                return response
            response.data = select_fields(response.data, request.query_params.get("fields"))
            return conditional.not_modified_or(response, request)

        return get

    def _idempotent(self, handler: Handler) -> Handler:
        def post(request: Request, *args: Any, **kwargs: Any) -> Any:
            return idempotency.run(
                request,
                produce=lambda: handler(request, *args, **kwargs),
                handle_exception=self.handle_exception,  # type: ignore[attr-defined]
            )

        return post

    def _if_match(self, handler: Handler) -> Handler:
        def write(request: Request, *args: Any, **kwargs: Any) -> Any:
            conditional.check_if_match(request, current=self._current_representation)
            return handler(request, *args, **kwargs)

        return write

    def _current_representation(self) -> Any:
        """What GET of this object answers now (to compare with an `If-Match` ETag): the view's own retrieve."""
        retrieve = getattr(self, "retrieve", None)
        if retrieve is None:
            raise exceptions.ValidationError({"If-Match": ["This endpoint has no ETag to match; send no If-Match."]})
        action = getattr(self, "action", None)
        self.action = "retrieve"
        try:
            return retrieve(self.request, *self.args, **self.kwargs).data  # type: ignore[attr-defined]
        finally:
            self.action = action

    # ----------------------------------------------------------------------------------------- querysets
    def get_scoped_queryset(self) -> QuerySet:
        return self.model.objects.all()

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no organization
            return self.model.unscoped.none()
        return self.get_scoped_queryset().filter(organization=self.request.organization)  # type: ignore[attr-defined]


def _supplier_warehouse(membership: Any) -> Any:
    """The warehouse a supplier member works for (shipping.SupplierAccess, reached through the membership: erp
    imports nothing from shipping), or None: then a warehouse-scoped view shows them nothing."""
    try:
        return membership.supplier_access.warehouse
    except ObjectDoesNotExist:
        return None


class OrganizationGenericAPIView(OrganizationAPIMixin, generics.GenericAPIView):
    api_view_base = True


class OrganizationReadOnlyViewSet(OrganizationAPIMixin, viewsets.ReadOnlyModelViewSet):
    api_view_base = True


class OrganizationViewSet(
    OrganizationAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """List and retrieve; subclasses add create/update/destroy actions that call services."""

    api_view_base = True
