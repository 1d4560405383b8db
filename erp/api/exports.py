"""API of the organization's data export: ask for one, poll it, download the zip (erp.exports). Thin."""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import FileResponse, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from erp import exports
from erp.api.serializers import OrganizationExportOutput
from erp.api.views import OrganizationGenericAPIView, OrganizationViewSet
from erp.models import ExportState, OrganizationExport
from erp.roles import Perm
from erp.views_base import request_caller


class ExportGone(exceptions.APIException):
    status_code = 410
    default_detail = "This export has expired and its file was deleted: ask for a new one."
    default_code = "export_expired"


class ExportNotReady(exceptions.APIException):
    status_code = 409
    default_detail = "This export is not ready: poll it until its state is `ready`."
    default_code = "export_not_ready"


class ZipRenderer(BaseRenderer):
    """Lets a client ask for `Accept: application/zip`; errors are JSON."""

    media_type = "application/zip"
    format = "zip"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return JSONRenderer().render(data)


@extend_schema(tags=["organization"])
class OrganizationExportViewSet(mixins.CreateModelMixin, OrganizationViewSet):
    """Exports of everything the organization owns: a zip of one CSV per table plus its stored files (label PDFs,
    the packing-slip logo). Built in the background; poll an export until `state` is `ready`, then download it from
    `download_url` before `expires_at`. Owners and admins only (signed-in dashboard session); API keys never hold
    this permission. docs/adr/0025-export-and-deletion.md lists what is in the zip and what is not."""

    resource_family: ClassVar[str] = "organization"
    model = OrganizationExport
    serializer_class = OrganizationExportOutput
    read_permission = Perm.ORGANIZATION_EXPORT
    write_permission = Perm.ORGANIZATION_EXPORT

    @extend_schema(request=None, responses={202: OrganizationExportOutput})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start an export. Answers 202 with the export in state `queued`; the requester is emailed when it is
        ready."""
        caller = request_caller(request)
        export = exports.organization_export_request(
            organization=caller.organization, actor=caller.actor, permissions=caller.permissions
        )
        export.refresh_from_db()  # a worker may have finished it already (eager in development)
        return Response(OrganizationExportOutput(export, context={"request": request}).data, status=202)


class OrganizationExportDownloadView(OrganizationGenericAPIView):
    """The zip of a ready export (streamed)."""

    resource_family: ClassVar[str] = "organization"
    model = OrganizationExport
    read_permission = Perm.ORGANIZATION_EXPORT
    renderer_classes = [JSONRenderer, ZipRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        # An error is the JSON error body even when the zip was asked for: a client must not save it as the export.
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)

    @extend_schema(
        tags=["organization"],
        request=None,
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The export's zip."),
            409: OpenApiResponse(description="The export is still being prepared, or it failed."),
            410: OpenApiResponse(description="The export expired and its file was deleted."),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Download the export's zip (audited)."""
        export = self.get_object()
        if export.state == ExportState.EXPIRED or (export.state == ExportState.READY and not export.is_downloadable):
            raise ExportGone()
        if export.state == ExportState.FAILED:
            raise ExportNotReady(f"This export failed ({export.error}): ask for a new one.")
        if not export.is_downloadable:
            raise ExportNotReady()
        try:
            zipped = export.file.open("rb")
        except FileNotFoundError as missing:  # removed from storage by hand: same as expired
            raise ExportGone() from missing
        caller = request_caller(request)
        exports.organization_export_downloaded(organization=caller.organization, actor=caller.actor, export=export)
        return FileResponse(
            zipped,
            as_attachment=True,
            filename=f"dropline-export-{export.created_at:%Y-%m-%d}.zip",
            content_type="application/zip",
        )
