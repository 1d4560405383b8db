"""Label batches in the dashboard: the queue, buy (confirm first), watch progress, retry failed, print."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from erp.inputs import parse_uuids
from erp.roles import Perm
from erp.views_base import OrganizationViewMixin
from orders import selectors as order_selectors
from orders.filters import OrderFilter
from orders.models import Order
from shipping import selectors
from shipping.combine import combinable_refresh_all, combine_offer, orders_combine
from shipping.documents import printing
from shipping.estimate import batch_estimate
from shipping.labels.batches import BatchPlan, batch_plan, label_batch_retry_failed
from shipping.models import LabelBatch
from shipping.services import label_batch_plan_and_create


class ShippingHomeView(OrganizationViewMixin, TemplateView):
    """The queue of label batches, newest first."""

    template_name = "shipping/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(batches=selectors.batches_list()[:100], **kwargs)


class BatchCreateView(OrganizationViewMixin, TemplateView):
    """POST from the orders list (the ticked orders, or every order matching the list's filter): first a
    confirmation with the number of labels, their estimated cost, what is left out and what looks wrong; buying
    starts only when that page is confirmed."""

    template_name = "shipping/batch_confirm.html"
    write_permission = Perm.LABELS_BUY
    http_method_names: ClassVar[list[str]] = ["post"]

    def _orders(self, request: HttpRequest) -> QuerySet[Order]:
        if request.POST.get("all_matching") == "1":
            filterset = OrderFilter(
                QueryDict(request.POST.get("filter", "")), queryset=order_selectors.orders_list(), request=request
            )
            return filterset.qs if filterset.is_valid() else Order.objects.none()
        return Order.objects.filter(pk__in=parse_uuids(request.POST.getlist("order")))

    def post(self, request: HttpRequest) -> HttpResponse:
        orders = self._orders(request)
        if request.POST.get("confirmed") != "1":
            plan = batch_plan(orders)
            if not plan.orders:
                return _nothing_to_buy(request, plan)
            estimate = batch_estimate(plan)
            request.session[ESTIMATE_SESSION_KEY] = estimate.as_record()
            return self.render_to_response(
                self.get_context_data(
                    estimate=estimate,
                    offer=combine_offer(plan.orders, estimate.prices),
                    orders=plan.orders,
                    all_matching=request.POST.get("all_matching") == "1",
                    filter_query=request.POST.get("filter", ""),
                )
            )
        plan, batch = label_batch_plan_and_create(
            actor=request.actor, orders=orders, estimate=request.session.get(ESTIMATE_SESSION_KEY)
        )
        if batch is None:
            return _nothing_to_buy(request, plan)
        request.session.pop(ESTIMATE_SESSION_KEY, None)  # shown once, kept on the batch it was confirmed for
        left_out = "; ".join(f"{n} {reason}" for reason, n in plan.skipped.items())
        messages.success(
            request,
            f"Batch {batch.reference}: buying {len(plan.orders) - len(batch.left_out)} label(s)."
            + (f" Left out: {left_out}." if left_out else ""),
        )
        return redirect("shipping_batch", pk=batch.pk)


class CombineView(BatchCreateView):
    """POST from the order list or the buy confirmation (the ticked orders, or every order matching the filter):
    combine the orders the platform allows to ship together, one buyer's orders into one parcel, then go back to
    the orders that can still combine."""

    write_permission = Perm.LABELS_BUY

    def post(self, request: HttpRequest) -> HttpResponse:
        summary = orders_combine(orders=list(self._orders(request)), actor=request.actor)
        if summary.combined:
            messages.success(
                request,
                f"Combined {summary.orders} orders into {summary.combined} parcel{'s' if summary.combined != 1 else ''}"
                ": each ships on one label.",
            )
        for why in summary.refused:
            messages.warning(request, f"Not combined: {why}")
        if not summary.combined and not summary.refused:
            messages.info(request, "None of these orders can ship together now.")
        return redirect("orders_home")


class CombinableRefreshView(OrganizationViewMixin, View):
    """Ask the platform which orders can ship together now, then list them."""

    write_permission = Perm.LABELS_BUY

    def post(self, request: HttpRequest) -> HttpResponse:
        groups = combinable_refresh_all()
        messages.info(request, f"{groups} group{'s' if groups != 1 else ''} of orders can ship as one parcel.")
        return redirect(f"{reverse('orders_home')}?can_combine=true")


def _nothing_to_buy(request: HttpRequest, plan: BatchPlan) -> HttpResponse:
    why = "; ".join(f"{n} {reason}" for reason, n in plan.skipped.items()) or "no order selected"
    messages.warning(request, f"No label to buy: {why}.")
    return redirect("orders_home")


ESTIMATE_SESSION_KEY = "label_batch_estimate"


class BatchDetailView(OrganizationViewMixin, TemplateView):
    template_name = "shipping/batch.html"

    def get_template_names(self) -> list[str]:
        return ["shipping/_batch_progress.html"] if self.request.htmx else [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        batch = get_object_or_404(LabelBatch.objects, pk=self.kwargs["pk"])
        return super().get_context_data(
            batch=batch,
            progress=selectors.batch_progress(batch),
            purchases=selectors.batch_purchases(batch),
            warnings=selectors.batch_warnings(batch),
            print_groups=printing.batch_print_groups(batch),
            prints=batch.prints.select_related("warehouse")[:20],
            **kwargs,
        )


class BatchRetryView(OrganizationViewMixin, View):
    write_permission = Perm.LABELS_BUY

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        batch = get_object_or_404(LabelBatch.objects, pk=pk)
        count = label_batch_retry_failed(actor=request.actor, batch=batch)
        messages.info(request, f"Retrying {count} failed label(s). Labels already bought are not touched.")
        return redirect("shipping_batch", pk=batch.pk)


def _pdf(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


class BatchDocumentView(OrganizationViewMixin, View):
    """One own warehouse's printout of the batch (`?warehouse=`), built from the stored labels: printing and
    reprinting never buy anything. Supplier and 3PL orders are printed from their handoffs, never here."""

    read_permission = Perm.LABELS_PRINT
    kind: printing.DocumentKind = "labels"

    def get(self, request: HttpRequest, pk: str) -> HttpResponse:
        batch = get_object_or_404(LabelBatch.objects, pk=pk)
        try:
            printed = printing.batch_document_build(
                batch=batch,
                kind=self.kind,
                warehouse=request.GET.get("warehouse"),
                organization=request.organization,
            )
        except printing.PrintRefused as refused:
            messages.warning(request, str(refused))
            return redirect("shipping_batch", pk=batch.pk)
        # Asking for the PDF is printing it: the download, not the batch page, goes into the print history.
        printing.print_event_record(batch=batch, printed=printed, actor=request.actor)
        return _pdf(printed.content, printed.filename)
