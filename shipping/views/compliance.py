"""The compliance view (am I compliant, what ships late, who cancels) and the label spend report with its CSV.
Thin: shipping.compliance and shipping.spend count; shipping.charts lays the charts out."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views import View
from django.views.generic import TemplateView

from erp import clock
from erp.csv_cells import csv_writer
from erp.views_base import OrganizationViewMixin
from integrations.logistics_policy import Phase
from integrations.models import Platform, Store
from shipping import charts, compliance, spend
from shipping.forms import SpendFilterForm


def _store_from(request: HttpRequest) -> Store | None:
    """The `store` query parameter: one of this organization's TikTok stores, else 404 (missing = not yours)."""
    raw = request.GET.get("store")
    if not raw:
        return None
    try:
        return get_object_or_404(Store.objects.exclude(platform=Platform.MANUAL), pk=forms.UUIDField().clean(raw))
    except forms.ValidationError:
        return get_object_or_404(Store.objects.none())


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def logistics_chart(report: compliance.ComplianceReport) -> charts.BarChart:
    days = report.days
    markers: list[tuple[int, str, str]] = []
    bands: list[tuple[int, int, str, str]] = []
    window = report.window
    policy = report.stores[0].policy if report.store is not None and report.stores else None
    if policy is not None:  # one store: show where its transition and cut-off fall in the window
        required, start = policy.required_from, policy.transition_from
        index = {day.day: n for n, day in enumerate(days)}
        if required is not None and required in index:
            markers.append((index[required], f"Cut-off {_day_label(required)}", "chart-marker"))
        if start is not None and required is not None and start <= window.last_day and required > window.first_day:
            last = min(required - timedelta(days=1), window.last_day)
            bands.append((index[max(start, window.first_day)], index[last], "Transition", "chart-band"))
    return charts.bar_chart(
        title="Shipped orders per day, by logistics",
        description=f"{report.official} of {report.shipped} orders shipped in the last 30 days were on official "
        f"TikTok logistics; {report.violations} were seller-shipped after the cut-off.",
        categories=[_day_label(day.day) for day in days],
        category_titles=[f"{day.day:%a %b} {day.day.day}" for day in days],
        series=[
            charts.Series("TikTok Shipping", "chart-tiktok", [d.tiktok_shipping for d in days]),
            charts.Series("Collections by TikTok", "chart-cbt", [d.cbt for d in days]),
            charts.Series("Fulfilled by TikTok", "chart-fbt", [d.fbt for d in days]),
            charts.Series("Seller shipping (before cut-off)", "chart-seller", [d.seller_accepted for d in days]),
            charts.Series("Seller shipping after cut-off", "chart-violation", [d.seller_violation for d in days]),
        ],
        y_label="orders",
        y_format=lambda v: f"{v:,.0f}",
        markers=markers,
        bands=bands,
    )


class ComplianceView(OrganizationViewMixin, TemplateView):
    """Per organization, or per store with ?store=<id>."""

    template_name = "shipping/compliance.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        store = _store_from(self.request)
        report = compliance.compliance_report(store=store)
        return super().get_context_data(
            report=report,
            store=store,
            stores=compliance.compliance_stores(),
            chart=logistics_chart(report),
            rates=[report.late_dispatch, report.valid_tracking, report.seller_cancellation],
            phases={phase.value: phase for phase in Phase},
            **kwargs,
        )


# ---------------------------------------------------------------------------------------------------------- spend
def spend_chart(days: list[spend.SpendTotal]) -> charts.BarChart:
    currency = days[0].currency if days else "USD"
    money = (lambda v: f"${v:,.0f}") if currency == "USD" else (lambda v: f"{v:,.0f} {currency}")
    parsed = [date.fromisoformat(d.key) for d in days]
    total_cost = sum((d.label_cost for d in days), Decimal(0))
    total_fees = sum((d.shipping_fee for d in days), Decimal(0))
    return charts.bar_chart(
        title="Label cost and buyer shipping fees per day",
        description=f"Labels cost {total_cost:,.2f} {currency}; buyers paid {total_fees:,.2f} {currency} for shipping.",
        categories=[_day_label(day) for day in parsed],
        category_titles=[f"{day:%a %b} {day.day}" for day in parsed],
        series=[charts.Series("label cost", "chart-tiktok", [d.label_cost for d in days])],
        line=charts.Series("paid by buyers for shipping", "chart-line", [d.shipping_fee for d in days]),
        y_format=money,
        y_label=currency,
    )


class SpendView(OrganizationViewMixin, TemplateView):
    template_name = "shipping/spend.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = SpendFilterForm(self.request.GET or None)
        store = _store_from(self.request)
        period, group = form.period(), form.chosen_group()
        days = spend.spend_by_day(period=period, store=store)
        query = self.request.GET.copy()
        query.pop("group", None)
        return super().get_context_data(
            form=form,
            store=store,
            stores=compliance.compliance_stores(),
            period=period,
            group=group,
            groups=[(g.value, label) for g, label in spend.GROUP_LABELS.items() if g != spend.SpendGroup.ORDER],
            group_label=spend.GROUP_LABELS[group],
            totals=spend.spend_totals(period=period, group=group, store=store),
            overall=spend.spend_overall(period=period, store=store),
            chart=spend_chart(days),
            sections=spend.spend_sources.gather(period.start, period.end, store),
            query=query.urlencode(),
            **kwargs,
        )


class SpendCsvView(OrganizationViewMixin, View):
    """One row per order (label cost, buyer shipping fee), or totals with ?group=store|warehouse|supplier|day.

    Written into a plain response rather than streamed: the generic tenancy and role tests read every page's body,
    and a month of one row per order is a few megabytes at most; the rows are read with `iterator()` either way."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = SpendFilterForm(request.GET)
        store = _store_from(request)
        period = form.period()
        valid = form.is_valid()
        group = spend.SpendGroup(form.cleaned_data.get("group") or "order") if valid else spend.SpendGroup.ORDER
        name = f"label-spend-{group.value}-{period.first_day}-to-{period.last_day}.csv"
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        writer = csv_writer(response)  # text cells formula-safe (erp/csv_cells.py)
        zone = clock.organization_zone()  # days and times in the organization's zone, named in the header
        if group == spend.SpendGroup.ORDER:
            writer.writerow(
                [
                    "order_id",
                    "store",
                    "warehouse",
                    "supplier",
                    "day",
                    "labels",
                    "label_cost",
                    "buyer_shipping_fee",
                    "fee_minus_cost",
                    "currency",
                    f"first_label_bought_at ({zone.key})",
                    f"ship_by ({zone.key})",
                ]
            )
            for line in spend.spend_lines(period=period, store=store):
                writer.writerow(
                    [
                        line.external_id,
                        line.store,
                        line.warehouse,
                        line.supplier,
                        line.day.isoformat(),
                        line.labels,
                        line.label_cost,
                        line.shipping_fee,
                        line.margin,
                        line.currency,
                        clock.format_iso(line.bought_at, zone),
                        clock.format_iso(line.ship_by, zone),
                    ]
                )
            return response
        writer.writerow(
            [
                group.value,
                "currency",
                "orders",
                "labels",
                "label_cost",
                "buyer_shipping_fee",
                "fee_minus_cost",
                "label_cost_per_order",
            ]
        )
        for total in spend.spend_totals(period=period, group=group, store=store):
            writer.writerow(
                [
                    total.key,
                    total.currency,
                    total.orders,
                    total.labels,
                    total.label_cost,
                    total.shipping_fee,
                    total.margin,
                    total.cost_per_order,
                ]
            )
        return response
