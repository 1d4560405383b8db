import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from erp import clock
from erp.actors import Actor
from erp.log import log_context
from erp.metrics import http_request_observe
from erp.selectors import memberships_of_user
from erp.tenancy import organization_scope

SESSION_KEY = "dropline_organization_id"
log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# A request id a proxy or a partner sent is kept when it is plainly an id (a UUID, a trace id); anything else (too
# long, spaces, control characters that could forge log lines) is replaced by one of ours.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


class RequestIdMiddleware:
    """First of all: gives the request an id (the caller's X-Request-ID when sane, else a new one), tags every log
    line written while it runs (erp/log.py), echoes it in the response's X-Request-ID, and counts the request by
    view and status with its latency (erp.metrics)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        started = time.monotonic()
        with log_context(request_id=request_id):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        match = getattr(request, "resolver_match", None)
        http_request_observe(
            view=(match.view_name if match is not None else "") or "unmatched",  # a route name: a closed set
            method=request.method or "",
            status=response.status_code,
            seconds=time.monotonic() - started,
        )
        return response


class OrganizationMiddleware:
    """Resolves the signed-in user's current organization (the one chosen in the switcher, else their first) and
    runs the whole request, response rendering included, inside that organization's tenant scope and time zone
    (docs/time.md: Django's own date filters and form fields then agree with `erp.clock`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.memberships = []
        request.membership = None
        request.organization = None
        request.permissions = frozenset()
        request.actor = None
        if request.user.is_authenticated:
            request.memberships = memberships_of_user(user=request.user)
            chosen = request.session.get(SESSION_KEY)
            request.membership = next(
                (m for m in request.memberships if str(m.organization_id) == chosen),
                request.memberships[0] if request.memberships else None,
            )
            if request.membership is not None:
                request.organization = request.membership.organization
                request.permissions = request.membership.permissions
            request.actor = Actor.for_user(request.user, ip_address=request.META.get("REMOTE_ADDR"))
        with organization_scope(request.organization), timezone.override(clock.organization_zone(request.organization)):
            return self.get_response(request)


class RequestTextMiddleware:
    """Refuses, with a 400 that says why, any request whose query string or form fields hold a NUL character:
    PostgreSQL cannot store or even compare text containing NUL, so one `code=a%00b` reaching a query is a server
    error in whichever view reads it (docs/adr/0014). One guard for every view instead of one per parameter; JSON
    bodies are checked by the API's serializers (DRF refuses NUL in every CharField)."""

    FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields = [request.GET]
        if request.method == "POST" and request.content_type in self.FORM_TYPES:
            fields.append(request.POST)  # parsed here as CSRF would; uploaded files are not text fields
        bad = sorted(
            {key.replace("\x00", "\\0") for data in fields for key, values in data.lists() if _has_nul(key, values)}
        )
        if not bad:
            return self.get_response(request)
        message = f"{', '.join(bad)[:200]}: contains a NUL character (\\0), which is never valid text."
        if request.path.startswith("/api/"):
            from erp.api.exceptions import error_body

            body = error_body(
                type_="validation_error",
                code="invalid",
                message=message,
                fields={key: ["Contains a NUL character."] for key in bad},
            )
            return JsonResponse(body, status=400)
        return render(request, "400.html", {"message": message}, status=400)


def _has_nul(key: str, values: list[str]) -> bool:
    return "\x00" in key or any("\x00" in value for value in values)


class DependencyOutageMiddleware:
    """A page that needed Redis (the broker, the shared counters) while it was unreachable answers 503 with
    Retry-After and says what happened, instead of a 500 (docs/adr/0011-dependency-outages.md). The API's own
    views answer in JSON through erp.api.exceptions; this covers the dashboard and anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from erp.api.exceptions import OUTAGE_RETRY_AFTER, error_body
        from erp.storage import StorageUnavailable
        from erp.tasks import BROKER_ERRORS

        if isinstance(exception, StorageUnavailable):
            return self._storage_unavailable(request, exception)
        if not isinstance(exception, BROKER_ERRORS):
            return None
        log.error("Redis unreachable during %s %s: %s", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                error_body(
                    type_="service_unavailable",
                    code="service_unavailable",
                    message="Dropline's queue service is unreachable. Retry in a moment.",
                ),
                status=503,
            )
        else:
            response = render(request, "503.html", {"method": request.method}, status=503)
        response["Retry-After"] = str(OUTAGE_RETRY_AFTER)
        return response

    @staticmethod
    def _storage_unavailable(request: HttpRequest, exception: Exception) -> HttpResponse:
        """Label files could not be read because storage (the volume or the bucket) is unreachable: 503, saying so."""
        from erp.api.exceptions import OUTAGE_RETRY_AFTER, error_body

        log.error("media storage unreachable during %s %s: %s", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                error_body(
                    type_="service_unavailable",
                    code="storage_unavailable",
                    message="Dropline's file storage is unreachable, so labels cannot be read. Retry in a moment.",
                ),
                status=503,
            )
        else:
            response = render(request, "503-storage.html", status=503)
        response["Retry-After"] = str(OUTAGE_RETRY_AFTER)
        return response
