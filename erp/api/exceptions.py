"""One error body for the whole API:

{"error": {"type": "validation_error", "code": "invalid", "message": "...", "fields": {"email": ["..."]}}}
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from erp.api.errors import (
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    InsufficientScope,
    PreconditionFailed,
    WarehouseBound,
)
from erp.tasks import BROKER_ERRORS

__all__ = [
    "IdempotencyKeyInFlight",
    "IdempotencyKeyReused",
    "InsufficientScope",
    "PreconditionFailed",
    "WarehouseBound",
]

OUTAGE_RETRY_AFTER = 30  # seconds: long enough for a Redis restart or failover


class ServiceUnavailable(exceptions.APIException):
    """A dependency (Redis: the broker and the shared counters) is unreachable: 503 with Retry-After."""

    status_code = 503
    default_detail = "Dropline's queue service is unreachable; nothing was changed. Retry in a moment."
    default_code = "service_unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = OUTAGE_RETRY_AFTER) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


_TYPES = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "invalid_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
    ServiceUnavailable: "service_unavailable",
    PreconditionFailed: "precondition_failed",
    IdempotencyKeyReused: "idempotency_error",
    IdempotencyKeyInFlight: "idempotency_error",
}


def error_body(*, type_: str, code: str, message: str, fields: dict | None = None) -> dict[str, Any]:
    return {"error": {"type": type_, "code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Services raise Django's own errors; the API reports them like DRF's.
    if isinstance(exc, BROKER_ERRORS):  # Redis went away after the throttle's check (docs/adr/0011)
        exc = ServiceUnavailable(
            "Dropline's queue service became unreachable during this request. It may have been saved: "
            "look before retrying, or retry with the same Idempotency-Key."
        )
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent, RequestDataTooBig)):
        # Django's own limits on a request body, hit while DRF parses it: without this they become its HTML 400.
        exc = exceptions.ParseError(detail=TOO_LARGE)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    type_ = next((name for cls, name in _TYPES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = "Some fields are invalid; see `fields`."
        code = "invalid"
    else:
        fields = {}
        message = str(exc.detail)
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
    response.data = error_body(type_=type_, code=code, message=message, fields=fields)
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = str(exc.retry_after)
    return response


@csrf_exempt  # API clients send no CSRF token: an unknown path answers the same JSON 404 to every method
def api_not_found(request: Any, rest: str = "") -> JsonResponse:
    return JsonResponse(
        error_body(type_="not_found", code="not_found", message="No such API endpoint."),
        status=status.HTTP_404_NOT_FOUND,
    )


# Django's own error pages (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, an unexpected exception) answer the API in JSON
# too: every /api/ response is the one error body. Wired as handler400/handler500 in erp/urls.py.
TOO_LARGE = "The request body has too many fields or files, or is too large. Send one JSON body."


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent, RequestDataTooBig)):
            message = TOO_LARGE  # hit before DRF parsed the body (e.g. by the NUL guard reading a form)
            return JsonResponse(error_body(type_="invalid_request", code="parse_error", message=message), status=400)
        message = "The request could not be read: it is malformed or larger than Dropline accepts."
        return JsonResponse(error_body(type_="invalid_request", code="bad_request", message=message), status=400)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        message = "Dropline failed to answer this request; it has been logged. Retry, or contact support."
        return JsonResponse(error_body(type_="server_error", code="server_error", message=message), status=500)
    return defaults.server_error(request)
