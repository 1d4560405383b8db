"""Settings → Organization: "Export all data" and "Delete organization" (erp.exports, erp.deletion). Thin."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import FormView

from erp import deletion, exports
from erp.forms import OrganizationDeleteForm
from erp.models import OrganizationExport
from erp.roles import Perm
from erp.views_base import OrganizationViewMixin, request_caller


class OrganizationExportView(OrganizationViewMixin, View):
    read_permission = Perm.ORGANIZATION_EXPORT
    write_permission = Perm.ORGANIZATION_EXPORT

    def post(self, request: HttpRequest) -> HttpResponse:
        caller = request_caller(request)
        exports.organization_export_request(
            organization=caller.organization, actor=caller.actor, permissions=caller.permissions
        )
        messages.success(
            request, "Export started. We will email you a download link when it is ready; it also appears below."
        )
        return redirect("settings_organization")


class OrganizationExportDownloadView(OrganizationViewMixin, View):
    read_permission = Perm.ORGANIZATION_EXPORT

    def get(self, request: HttpRequest, pk: str) -> HttpResponseBase:
        export = get_object_or_404(OrganizationExport.objects, pk=pk)
        if not export.is_downloadable:
            return render(request, "settings/export_gone.html", {"export": export}, status=410)
        try:
            zipped = export.file.open("rb")
        except FileNotFoundError:  # removed from storage by hand: same as expired
            return render(request, "settings/export_gone.html", {"export": export}, status=410)
        caller = request_caller(request)
        exports.organization_export_downloaded(organization=caller.organization, actor=caller.actor, export=export)
        return FileResponse(zipped, as_attachment=True, filename=f"dropline-export-{export.created_at:%Y-%m-%d}.zip")


class OrganizationDeleteView(OrganizationViewMixin, FormView):
    template_name = "settings/organization_delete.html"
    form_class = OrganizationDeleteForm
    read_permission = Perm.ORGANIZATION_MANAGE
    write_permission = Perm.ORGANIZATION_MANAGE

    def form_valid(self, form: OrganizationDeleteForm) -> HttpResponse:
        caller = request_caller(self.request)
        name = caller.organization.name
        try:
            deletion.organization_delete(
                organization=caller.organization,
                actor=caller.actor,
                confirmation=form.cleaned_data["confirmation"],
            )
        except ValidationError as error:
            form.add_error("confirmation", error.message_dict.get("confirmation", error.messages))
            return self.form_invalid(form)
        messages.success(self.request, f"{name} and all of its data were deleted.")
        return redirect("dashboard")
