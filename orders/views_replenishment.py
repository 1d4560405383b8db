"""FBT replenishment in the dashboard: what to send to TikTok's warehouses, as a table and as CSV. Thin:
`orders.replenishment` computes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from erp.views_base import OrganizationViewMixin
from inventory.models import StockMovement, WarehouseKind, WarehouseLink
from orders import replenishment


class ReplenishmentForm(forms.Form):
    window = forms.TypedChoiceField(
        label="Sales over the last",
        choices=[(n, f"{n} days") for n in replenishment.WINDOWS],
        coerce=int,
        required=False,
        empty_value=replenishment.DEFAULT_WINDOW,
    )
    target = forms.IntegerField(
        label="Target cover (days)", min_value=1, max_value=replenishment.MAX_TARGET, required=False
    )

    def choices(self) -> tuple[int, int]:
        """(window days, target days): the defaults for anything missing or invalid."""
        data = self.cleaned_data if self.is_valid() else {}
        return (
            data.get("window") or replenishment.DEFAULT_WINDOW,
            data.get("target") or replenishment.DEFAULT_TARGET,
        )


def _suggestion(
    request: HttpRequest,
) -> tuple[ReplenishmentForm, list[replenishment.ReplenishmentRow], replenishment.InTransit]:
    form = ReplenishmentForm(request.GET)
    window, target = form.choices()
    in_transit = replenishment.fbt_in_transit(refresh=request.GET.get("refresh") == "1")
    rows = replenishment.fbt_replenishment(window_days=window, target_days=target, in_transit=in_transit)
    return form, rows, in_transit


class ReplenishmentView(OrganizationViewMixin, TemplateView):
    template_name = "inventory/replenishment.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form, rows, in_transit = _suggestion(self.request)
        window, target = form.choices()
        last_sync = (
            StockMovement.objects.filter(warehouse__kind=WarehouseKind.PLATFORM)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        return super().get_context_data(
            tab="replenishment",
            form=form,
            window=window,
            target=target,
            windows=replenishment.WINDOWS,
            rows=rows,
            totals=replenishment.totals(rows),
            in_transit=in_transit,
            has_fbt=WarehouseLink.objects.filter(warehouse__kind=WarehouseKind.PLATFORM).exists(),
            last_fbt_change=last_sync,
            csv_query=f"window={window}&target={target}",
            **kwargs,
        )


class ReplenishmentCsvView(OrganizationViewMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        _, rows, _ = _suggestion(request)
        response = HttpResponse(replenishment.replenishment_csv(rows), content_type="text/csv; charset=utf-8")
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="dropline-fbt-replenishment-{stamp}.csv"'
        return response
