from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from erp import clock
from erp.actors import Actor
from erp.selectors import memberships_of_user
from erp.tenancy import organization_scope

SESSION_KEY = "dropline_organization_id"


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
