"""The packing station in the dashboard: one input for a scanner; scan the label, then every unit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

from erp.roles import Perm
from erp.views_base import OrganizationViewMixin
from shipping import packing

# The packing station remembers, per browser session, its warehouse and the parcel it is packing (the counts
# themselves are on the LabelPurchase: a reload, or another station scanning the label, picks them up).
STATION_KEY = "packing_station_warehouse"
CURRENT_KEY = "packing_purchase"


class ScanView(OrganizationViewMixin, TemplateView):
    """The packing station: one input for a scanner. Scan the label, then every unit; packed when all match."""

    template_name = "shipping/scan.html"
    write_permission = Perm.LABELS_PRINT

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        session = self.request.session
        if "result" not in kwargs and session.get(CURRENT_KEY):
            kwargs["result"] = packing.pack_progress(purchase_id=session[CURRENT_KEY])
        return super().get_context_data(
            stations=packing.packing_stations(),
            station=packing.packing_station(session.get(STATION_KEY)),
            can_override=Perm.PACKING_OVERRIDE in self.request.permissions,
            **kwargs,
        )

    def answer(self, request: HttpRequest, result: packing.PackResult) -> HttpResponse:
        if result.in_progress and result.purchase is not None:
            request.session[CURRENT_KEY] = str(result.purchase.pk)
        else:
            request.session.pop(CURRENT_KEY, None)
        template = "shipping/_scan_result.html" if request.htmx else self.template_name
        return self.response_class(request=request, template=[template], context=self.get_context_data(result=result))

    def post(self, request: HttpRequest) -> HttpResponse:
        current = request.session.get(CURRENT_KEY)
        if request.POST.get("action") == "finish":
            return self.answer(request, packing.pack_finish(purchase_id=current, actor=request.actor))
        station = packing.packing_station(request.session.get(STATION_KEY))
        result = packing.pack_scan(
            code=request.POST.get("code", ""), actor=request.actor, station=station, current_id=current
        )
        return self.answer(request, result)


class ScanOverrideView(ScanView):
    """A supervisor marks the parcel being packed as packed although its units do not match (audited)."""

    http_method_names = ["post"]
    write_permission = Perm.PACKING_OVERRIDE

    def post(self, request: HttpRequest) -> HttpResponse:
        current, reason = request.session.get(CURRENT_KEY), request.POST.get("reason", "")
        return self.answer(request, packing.pack_override(purchase_id=current, reason=reason, actor=request.actor))


class ScanStationView(OrganizationViewMixin, View):
    """Choose the warehouse this packing station packs for: labels of other warehouses are refused."""

    write_permission = Perm.LABELS_PRINT

    def post(self, request: HttpRequest) -> HttpResponse:
        station = packing.packing_station(request.POST.get("warehouse"))
        if station is not None and str(station.pk) == request.POST.get("warehouse"):
            request.session[STATION_KEY] = str(station.pk)
            messages.info(request, f"This station packs for {station.name}.")
        else:
            messages.warning(request, "Choose one of your own, active warehouses for this station.")
        return redirect("shipping_scan")
