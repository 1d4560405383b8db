"""API endpoints of the core (thin: scoped queryset in, output serializer out)."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from erp.api.filters import AuditEntryFilter
from erp.api.serializers import APIKeyOutput, AuditEntryOutput, MemberOutput, OrganizationOutput
from erp.api.views import OrganizationGenericAPIView, OrganizationReadOnlyViewSet
from erp.models import APIKey, AuditEntry, Membership
from erp.roles import Perm, ResourceFamily


class CurrentOrganizationView(OrganizationGenericAPIView):
    """The organization the caller acts for (the API key's, or the dashboard's current one)."""

    resource_family = ResourceFamily.ORGANIZATION
    model = Membership  # nothing is listed; the organization comes from the request
    serializer_class = OrganizationOutput

    def get(self, request: Request) -> Response:
        return Response(OrganizationOutput(request.organization).data)


@extend_schema(tags=["organization"])
class MemberViewSet(OrganizationReadOnlyViewSet):
    resource_family = ResourceFamily.ORGANIZATION
    model = Membership
    serializer_class = MemberOutput

    def get_scoped_queryset(self):  # type: ignore[no-untyped-def]
        return Membership.objects.select_related("user")


@extend_schema(tags=["organization"])
class AuditEntryViewSet(OrganizationReadOnlyViewSet):
    """The organization's audit log, newest first."""

    resource_family = ResourceFamily.AUDIT

    model = AuditEntry
    serializer_class = AuditEntryOutput
    filterset_class = AuditEntryFilter
    read_permission = Perm.AUDIT_VIEW


@extend_schema(tags=["organization"])
class APIKeyViewSet(OrganizationReadOnlyViewSet):
    """The organization's API keys (never their secrets). Keys are created and revoked in the dashboard."""

    resource_family = ResourceFamily.ORGANIZATION
    model = APIKey
    serializer_class = APIKeyOutput
    read_permission = Perm.API_KEYS_MANAGE
