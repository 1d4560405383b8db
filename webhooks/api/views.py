"""Webhook endpoints for partner systems: subscribe, rotate, test, read the delivery log, redeliver. Thin: the
services in webhooks.services do every write, exactly as the dashboard's Settings → Webhooks does."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from erp.api.views import OrganizationViewSet
from erp.roles import Perm
from webhooks import services
from webhooks.api.serializers import (
    DeliveryOutput,
    DeliveryPageOutput,
    EndpointInput,
    EndpointOutput,
    EndpointWithSecretOutput,
    RedeliverInput,
    RedeliverOutput,
    SecretOutput,
)
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

UUID_REGEX = "[0-9a-fA-F-]{32,36}"


@extend_schema(tags=["webhooks"])
@extend_schema_view(
    create=extend_schema(request=EndpointInput, responses={201: EndpointWithSecretOutput}),
    partial_update=extend_schema(request=EndpointInput, responses=EndpointOutput),
)
class WebhookEndpointViewSet(OrganizationViewSet):
    """Where Dropline POSTs signed events (docs/webhooks.md). The secret is returned only at creation and rotation."""

    resource_family: ClassVar[str] = "webhooks"
    model = WebhookEndpoint
    read_permission = Perm.WEBHOOKS_MANAGE
    write_permission = Perm.WEBHOOKS_MANAGE
    lookup_value_regex = UUID_REGEX

    def get_scoped_queryset(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.order_by("-id")

    def get_serializer_class(self) -> type[BaseSerializer]:
        return EndpointInput if self.action in ("create", "partial_update") else EndpointOutput

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, _ = services.endpoint_create(
            organization=request.organization,  # type: ignore[attr-defined]  # set by the API's authentication
            actor=request.actor,  # type: ignore[attr-defined]
            url=data.validated_data["url"],
            events=data.validated_data["events"],
            description=data.validated_data["description"],
        )
        return Response(EndpointWithSecretOutput(endpoint).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        data = EndpointInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.endpoint_update(endpoint=endpoint, actor=request.actor, **data.validated_data)  # type: ignore[attr-defined]
        return Response(EndpointOutput(endpoint).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.endpoint_delete(endpoint=self.get_object(), actor=request.actor)  # type: ignore[attr-defined]
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=SecretOutput)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new secret, shown once; the old one keeps signing beside it for 24 hours."""
        endpoint = self.get_object()
        secret = services.endpoint_rotate_secret(endpoint=endpoint, actor=request.actor)  # type: ignore[attr-defined]
        return Response(
            SecretOutput({"secret": secret, "previous_secret_expires_at": endpoint.previous_secret_expires_at}).data
        )

    @extend_schema(request=None, responses={202: DeliveryOutput})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send a `ping` event to this endpoint now; follow it in `deliveries/`."""
        delivery = services.endpoint_test(endpoint=self.get_object(), actor=request.actor)  # type: ignore[attr-defined]
        return Response(DeliveryOutput(self._deliveries().get(pk=delivery.pk)).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=EndpointOutput)
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Enable it again (after an automatic disable); the deliveries that waited go out now."""
        endpoint = services.endpoint_enable(endpoint=self.get_object(), actor=request.actor)  # type: ignore[attr-defined]
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(request=None, responses=EndpointOutput)
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Stop sending to it; new events are not queued for it until it is enabled."""
        endpoint = self.get_object()
        services.endpoint_disable(endpoint=endpoint, actor=request.actor)  # type: ignore[attr-defined]
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(request=None, responses=DeliveryPageOutput)
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The delivery log, newest first: status, response code, duration, body excerpt and every attempt."""
        endpoint = self.get_object()
        page = self.paginate_queryset(self._deliveries().filter(endpoint=endpoint).order_by("-id"))
        return self.get_paginated_response(DeliveryOutput(page, many=True).data)

    @extend_schema(request=RedeliverInput, responses=RedeliverOutput)
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send many deliveries again: by `ids`, or by `status` (e.g. `failed`) within `since`/`until`."""
        endpoint = self.get_object()
        data = RedeliverInput(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.deliveries_redeliver(
            endpoint=endpoint,
            actor=request.actor,  # type: ignore[attr-defined]
            delivery_ids=data.validated_data.get("ids"),
            status=data.validated_data.get("status"),
            since=data.validated_data.get("since"),
            until=data.validated_data.get("until"),
        )
        return Response(RedeliverOutput({"redelivered": count}).data)

    @extend_schema(
        request=None,
        responses={202: DeliveryOutput},
        parameters=[OpenApiParameter("delivery_id", str, OpenApiParameter.PATH, description="The delivery's id.")],
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[^/.]+)/redeliver")
    def redeliver_one(self, request: Request, *args: Any, delivery_id: str, **kwargs: Any) -> Response:
        """Send one delivery again (same event id)."""
        endpoint = self.get_object()
        delivery = self._delivery(endpoint, delivery_id)
        services.deliveries_redeliver(endpoint=endpoint, actor=request.actor, delivery_ids=[delivery.pk])  # type: ignore[attr-defined]
        return Response(DeliveryOutput(self._deliveries().get(pk=delivery.pk)).data, status=status.HTTP_202_ACCEPTED)

    def _deliveries(self) -> QuerySet[WebhookDelivery]:
        return WebhookDelivery.objects.select_related("event").prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("started_at"))
        )

    def _delivery(self, endpoint: WebhookEndpoint, delivery_id: str) -> WebhookDelivery:
        try:
            pk = uuid.UUID(delivery_id)
        except ValueError:  # the endpoint was found (it is the caller's): the delivery id is malformed
            raise ValidationError({"delivery_id": ["Not a delivery id."]}) from None
        delivery = WebhookDelivery.objects.filter(endpoint=endpoint, pk=pk).first()
        if delivery is None:
            raise Http404
        return delivery
