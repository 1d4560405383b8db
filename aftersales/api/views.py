"""After-sales requests for partner systems (a helpdesk, a returns portal): read them, and decide them exactly as
the dashboard does. A decision is recorded once per request and step (a retried POST answers the first decision,
200 instead of 202) and sent by a worker with the platform's idempotency key."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from aftersales import services
from aftersales.api.serializers import (
    CancellationDecisionInput,
    CancellationRequestOutput,
    DecisionOutput,
    ReasonOutput,
    ReturnDecisionInput,
    ReturnRequestOutput,
)
from aftersales.models import CancellationRequest, Decision, ReturnRequest
from aftersales.tasks import decision_send
from erp.api.views import OrganizationReadOnlyViewSet
from erp.roles import Perm, ResourceFamily
from integrations.errors import ErrorKind, NotSupported, PlatformError
from integrations.interface import Reason, ReturnDecision

WAITING = OpenApiParameter(
    "waiting", bool, description="`true`: only the requests waiting for the seller's answer, soonest deadline first."
)


class PlatformUnavailable(APIException):
    status_code = 503
    default_detail = "The platform could not be reached: try again shortly."
    default_code = "platform_unavailable"


class PlatformRefused(APIException):
    """The platform refused to answer for this store (not connected, tokens expired, no such request there)."""

    status_code = 409
    default_detail = "The platform refused: see the store's page."
    default_code = "platform_refused"


def _reasons(request: CancellationRequest | ReturnRequest) -> list[Reason]:
    try:
        return services.reject_reasons(request)
    except NotSupported as error:
        raise PlatformRefused(str(error)) from error
    except PlatformError as error:
        if error.kind in (ErrorKind.TEMPORARY, ErrorKind.RATE_LIMITED):
            raise PlatformUnavailable(error.fix or error.message) from error
        raise PlatformRefused(error.fix or error.message) from error


def _decide(
    api_request: Request,
    target: CancellationRequest | ReturnRequest,
    *,
    approve: bool,
    reason_code: str,
    comment: str,
    return_decision: ReturnDecision | None = None,
) -> Response:
    reason = None
    if not approve:
        reason = next((r for r in _reasons(target) if r.code == reason_code), None)
        if reason is None:
            raise ValidationError({"reason": ["To reject, give one of the codes listed by `reject-reasons/`."]})
    try:
        with transaction.atomic():
            decision, created = services.decision_request(
                request=target,
                approve=approve,
                actor=api_request.actor,  # type: ignore[attr-defined]  # set by the API's authentication
                reason=reason,
                comment=comment,
                return_decision=return_decision,
            )
    except services.DecisionRefused as refused:
        raise ValidationError({"detail": [str(refused)]}) from refused
    if created:
        decision_send.delay_on_commit(organization_id=str(decision.organization_id), decision_id=str(decision.pk))
    return Response(DecisionOutput(decision).data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class _RequestViewSet(OrganizationReadOnlyViewSet):
    resource_family = ResourceFamily.AFTERSALES
    write_permission = Perm.AFTERSALES_DECIDE
    model = CancellationRequest

    def get_scoped_queryset(self) -> QuerySet[Any]:
        requests = self.model.objects.prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.order_by("created_at"))
        )
        if self.request.query_params.get("waiting") == "true":
            return self._waiting(requests).order_by("respond_by", "requested_at")
        return requests.order_by("-platform_updated_at", "-requested_at")

    def _waiting(self, requests: QuerySet[Any]) -> QuerySet[Any]:
        raise NotImplementedError

    @extend_schema(request=None, responses=ReasonOutput(many=True))
    @action(detail=True, methods=["get"], url_path="reject-reasons")
    def reject_reasons(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The platform's reasons to reject this request as it stands now (read from the platform)."""
        return Response(ReasonOutput(_reasons(self.get_object()), many=True).data)


@extend_schema(tags=["after-sales"], parameters=[WAITING])
class CancellationRequestViewSet(_RequestViewSet):
    """Buyers' cancellation requests (a copy of the platform's, refreshed by its notifications)."""

    model = CancellationRequest

    def _waiting(self, requests: QuerySet[Any]) -> QuerySet[Any]:
        return requests.filter(needs_decision=True)

    def get_serializer_class(self) -> type[BaseSerializer]:
        return CancellationDecisionInput if self.action == "decision" else CancellationRequestOutput

    @extend_schema(request=CancellationDecisionInput, responses={202: DecisionOutput, 200: DecisionOutput})
    @action(detail=True, methods=["post"])
    def decision(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Approve or reject (with a reason code). 202: recorded and being sent; 200: already decided at this
        step, nothing sent twice. Poll the request for the decision's `state`."""
        target = self.get_object()
        data = CancellationDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _decide(
            request,
            target,
            approve=data.validated_data["approve"],
            reason_code=data.validated_data.get("reason", ""),
            comment=data.validated_data.get("comment", ""),
        )


@extend_schema(tags=["after-sales"], parameters=[WAITING])
class ReturnRequestViewSet(_RequestViewSet):
    """Refund, return and replacement requests; each is answered at the step it is at (`decisions_open`)."""

    model = ReturnRequest  # type: ignore[assignment]  # the same base fields, another kind of request

    def _waiting(self, requests: QuerySet[Any]) -> QuerySet[Any]:
        return requests.exclude(decisions_open=[])

    def get_serializer_class(self) -> type[BaseSerializer]:
        return ReturnDecisionInput if self.action == "decision" else ReturnRequestOutput

    @extend_schema(request=ReturnDecisionInput, responses={202: DecisionOutput, 200: DecisionOutput})
    @action(detail=True, methods=["post"])
    def decision(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Answer the request at its step: one of its `decisions_open` (a reject_* one takes a reason code)."""
        target = self.get_object()
        data = ReturnDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        chosen = ReturnDecision(data.validated_data["decision"])
        return _decide(
            request,
            target,
            approve=chosen.approves,
            reason_code=data.validated_data.get("reason", ""),
            comment=data.validated_data.get("comment", ""),
            return_decision=chosen,
        )
