"""Stores for partner systems: the connected sales channels with their sync status (what needs attention, and the
fix), and "Sync now" through the same service as the dashboard. Connecting and disconnecting stay in the dashboard:
they need the seller's consent on the platform."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from erp.api.views import OrganizationReadOnlyViewSet
from erp.roles import Perm
from integrations import selectors, services
from integrations.api.serializers import StoreDetailOutput, StoreOutput, StoreSyncRequestOutput
from integrations.models import Store


@extend_schema(tags=["stores"])
class StoreViewSet(OrganizationReadOnlyViewSet):
    """The organization's stores on each sales channel, by name."""

    model = Store
    resource_family: ClassVar[str] = "stores"
    read_permission = Perm.VIEW
    # Requesting a sync imports orders; it changes no store setting (those stay with people: STORES_MANAGE).
    write_permission = Perm.ORDERS_MANAGE
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    def get_scoped_queryset(self) -> QuerySet[Store]:
        return selectors.stores_list()

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return StoreDetailOutput if self.action == "retrieve" else StoreOutput

    @extend_schema(
        request=None,
        responses={
            202: StoreSyncRequestOutput,
            400: OpenApiResponse(description="The store is not connected: the message says how to reconnect it."),
        },
    )
    @action(detail=True, methods=["post"])
    def sync(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Sync the store now, in the background: its orders (and its catalogue where the channel has one). Safe
        to repeat: a sync already running is not started twice."""
        store = self.get_object()
        services.store_sync_request(store=store)
        return Response(
            StoreSyncRequestOutput({"requested": True, "store": store}).data, status=status.HTTP_202_ACCEPTED
        )
