"""The project's URLs plus a test-only warehouse-scoped API view (the mechanism is tested before any real one
exists; docs/adr/0021-partner-api-semantics.md)."""

from __future__ import annotations

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response

from erp.api.views import OrganizationGenericAPIView
from erp.models import Membership
from erp.roles import Perm, ResourceFamily
from erp.urls import urlpatterns as project_urlpatterns


class WarehouseEchoView(OrganizationGenericAPIView):
    """Answers which warehouse the base view scoped the request to."""

    model = Membership
    resource_family = ResourceFamily.HANDOFFS
    warehouse_scoped = True
    read_permission = Perm.HANDOFF_RECEIVE

    def get(self, request: Request) -> Response:
        scope = request.warehouse_scope
        return Response({"warehouse": str(scope.pk) if scope else None})


urlpatterns = [
    path("api/v1/test-warehouse-echo/", WarehouseEchoView.as_view(), name="test-warehouse-echo"),
    *project_urlpatterns,
]
