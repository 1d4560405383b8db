"""Collections by TikTok in the dashboard: each CBT warehouse's pickups of a day, and the manifest PDF the warehouse
prints for the TikTok driver. Thin: `shipping.pickup` selects,
`shipping.documents.pickup_manifest` draws."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from erp.inputs import validate_day
from erp.roles import Perm
from erp.views_base import OrganizationViewMixin
from inventory.models import Warehouse, WarehouseKind
from shipping import pickup
from shipping.documents.pickup_manifest import manifest_filename, pickup_manifest_pdf


def _day(request: HttpRequest) -> date | None:
    """The `day` query parameter (YYYY-MM-DD); None when absent. A malformed day is a 404 like any bad address."""
    raw = request.GET.get("day", "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
        validate_day(day)  # year 9999 plus a day overflows
    except (ValueError, ValidationError):
        raise Http404("Give the day as YYYY-MM-DD.") from None
    return day


class PickupsView(OrganizationViewMixin, TemplateView):
    """Every Collections by TikTok warehouse with its packages for a day (today where the warehouse is, or ?day=)."""

    template_name = "shipping/pickups.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        day = _day(self.request)
        warehouses = pickup.cbt_warehouses()
        rows = [
            {"warehouse": w, "manifest": m}
            for w, m in zip(warehouses, pickup.manifests_for(warehouses, day=day), strict=True)
        ]
        return super().get_context_data(
            rows=rows,
            day=day,
            # The warehouses' own today when no day is asked for (what their manifests show), not the server's.
            day_value=(day or (rows[0]["manifest"].day if rows else timezone.localdate())).isoformat(),
            has_warehouses=Warehouse.objects.exclude(kind=WarehouseKind.PLATFORM).exists(),
            **kwargs,
        )


class PickupManifestView(OrganizationViewMixin, View):
    """The day's pickup manifest of one warehouse as a PDF (Letter, or A4 with ?paper=A4)."""

    read_permission = Perm.LABELS_PRINT

    def get(self, request: HttpRequest, pk: str) -> HttpResponse:
        # A platform's own warehouses (TikTok's FBT) have no pickups: the truck never comes to them.
        warehouse = get_object_or_404(Warehouse.objects.exclude(kind=WarehouseKind.PLATFORM), pk=pk)
        day = _day(request) or pickup.warehouse_today(warehouse)
        manifest = pickup.pickup_manifest(warehouse=warehouse, day=day)
        paper = "A4" if request.GET.get("paper") == "A4" else "Letter"
        pdf = pickup_manifest_pdf(
            manifest, printed_at=timezone.now(), paper=paper
        )  # the PDF names it in the warehouse zone
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{manifest_filename(manifest)}"'
        return response
