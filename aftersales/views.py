"""The after-sales inboxes (cancellations, returns) and the seller's own cancellation, in the dashboard. Thin: each
POST records decisions through aftersales.services and queues them; the worker sends each once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from aftersales import selectors, services
from aftersales.models import CancellationRequest, DecisionState, ReturnRequest
from aftersales.tasks import decision_send, seller_cancel, sync_store
from erp.inputs import object_or_404, parse_uuids
from erp.roles import Perm
from erp.views_base import OrganizationViewMixin
from integrations.errors import NotSupported, PlatformError
from integrations.interface import Reason, ReturnDecision
from integrations.models import Store, StoreStatus
from orders.models import Order
from shipping.selectors import order_stakes

MAX_BULK = 200


def _chosen(request: HttpRequest) -> list[Any]:
    """The requests a POST names: one row's own button (`one`), else the ticked rows."""
    one = request.POST.get("one")
    return parse_uuids([one] if one else request.POST.getlist("request"))[:MAX_BULK]


def _queue(decisions: list[Any]) -> None:
    for decision in decisions:
        decision_send.delay_on_commit(organization_id=str(decision.organization_id), decision_id=str(decision.pk))


def _record(
    request: HttpRequest,
    targets: Sequence[CancellationRequest | ReturnRequest],
    *,
    approve: bool,
    reason: Reason | None = None,
    comment: str = "",
    return_decision: ReturnDecision | None = None,
) -> tuple[int, list[str]]:
    """Record one decision per request; returns (how many new, refusals). Each decision is committed on its own
    before it is queued, so one refusal never loses the others."""
    new, refused = [], []
    for target in targets:
        try:
            with transaction.atomic():
                decision, created = services.decision_request(
                    request=target,
                    approve=approve,
                    actor=request.actor,  # type: ignore[attr-defined]  # set by OrganizationMiddleware
                    reason=reason,
                    comment=comment,
                    return_decision=return_decision,
                )
        except services.DecisionRefused as error:
            refused.append(str(error))
            continue
        if created:
            new.append(decision)
    _queue(new)
    return len(new), refused


def _say(request: HttpRequest, verb: str, count: int, refused: list[str]) -> None:
    if count:
        messages.success(request, f"{verb} {count} request{'s' if count != 1 else ''}: sent to the platform.")
    for text in refused:
        messages.error(request, text)
    if not count and not refused:
        messages.info(request, "Already decided: nothing was sent twice.")


class InboxView(OrganizationViewMixin, TemplateView):
    """An inbox of requests waiting for the seller, soonest deadline first: approve the ticked ones (or one row's),
    or go to the reject page with them."""

    write_permission = Perm.AFTERSALES_DECIDE
    model: type[CancellationRequest] | type[ReturnRequest] = CancellationRequest
    url_name = "aftersales_cancellations"
    reject_url_name = "aftersales_cancellations_reject"
    to_decide: Callable[[], list[selectors.InboxRow]] = staticmethod(selectors.cancellations_to_decide)
    recent: Callable[[], Any] = staticmethod(selectors.cancellations_recent)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            section=self.url_name,
            rows=self.to_decide(),
            recent=self.recent(),
            can_decide=Perm.AFTERSALES_DECIDE in self.request.permissions,  # type: ignore[attr-defined]
            **kwargs,
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        targets: list[Any] = list(self.model.objects.filter(pk__in=_chosen(request)).select_related("store"))
        if not targets:
            messages.error(request, "Select at least one request.")
            return redirect(self.url_name)
        if request.POST.get("action") == "reject":
            query = "&".join(f"request={t.pk}" for t in targets)
            return redirect(f"{reverse(self.reject_url_name)}?{query}")
        count, refused = _record(request, targets, approve=True)
        _say(request, "Approved", count, refused)
        return redirect(self.url_name)


class CancellationInboxView(InboxView):
    """Buyers' cancellation requests, with what each would stop."""

    template_name = "aftersales/cancellations.html"


class ReturnInboxView(InboxView):
    """Refund, return and replacement requests (each approved at the step it is at)."""

    template_name = "aftersales/returns.html"
    model = ReturnRequest
    url_name = "aftersales_returns"
    reject_url_name = "aftersales_returns_reject"
    to_decide = staticmethod(selectors.returns_to_decide)
    recent = staticmethod(selectors.returns_recent)


class RejectView(OrganizationViewMixin, TemplateView):
    """Reject one or more requests with one of the platform's reasons (read from the platform for the first request:
    requests of one kind and step share the list)."""

    template_name = "aftersales/reject.html"
    read_permission = Perm.AFTERSALES_DECIDE
    write_permission = Perm.AFTERSALES_DECIDE
    model: type[CancellationRequest] | type[ReturnRequest] = CancellationRequest
    back = "aftersales_cancellations"

    def _targets(self, values: list[str]) -> list[Any]:
        ids = parse_uuids(values)[:MAX_BULK]
        return list(self.model.objects.filter(pk__in=ids).select_related("store", "order"))

    def _reasons(self, targets: list[Any]) -> tuple[list[Reason], str]:
        try:
            return services.reject_reasons(targets[0]), ""
        except (PlatformError, NotSupported) as error:
            return [], getattr(error, "fix", "") or str(error)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        targets = self._targets(request.GET.getlist("request"))
        if not targets:
            messages.error(request, "Select at least one request.")
            return redirect(self.back)
        reasons, problem = self._reasons(targets)
        return self.render_to_response(
            self.get_context_data(targets=targets, reasons=reasons, problem=problem, back=self.back)
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        targets = self._targets(request.POST.getlist("request"))
        if not targets:
            messages.error(request, "Select at least one request.")
            return redirect(self.back)
        reasons, problem = self._reasons(targets)
        chosen = next((r for r in reasons if r.code == request.POST.get("reason")), None)
        comment = request.POST.get("comment", "")
        if chosen is None or len(comment) > 500:
            errors = ["Choose one of the platform's reasons."] if chosen is None else []
            if len(comment) > 500:
                errors.append("A comment is at most 500 characters.")
            context = self.get_context_data(
                targets=targets, reasons=reasons, problem=problem, back=self.back, errors=errors
            )
            return self.render_to_response(context, status=400)
        count, refused = self._record(request, targets, chosen, comment)
        _say(request, "Rejected", count, refused)
        return redirect(self.back)

    def _record(self, request: HttpRequest, targets: list[Any], reason: Reason, comment: str) -> tuple[int, list[str]]:
        return _record(request, targets, approve=False, reason=reason, comment=comment)


class ReturnRejectView(RejectView):
    model = ReturnRequest
    back = "aftersales_returns"

    def _record(self, request: HttpRequest, targets: list[Any], reason: Reason, comment: str) -> tuple[int, list[str]]:
        # each return is rejected at the step it is at (the request, or the parcel that came back)
        count, refused = 0, []
        for target in targets:
            step = next((ReturnDecision(d) for d in target.decisions_open if not ReturnDecision(d).approves), None)
            if step is None:
                refused.append(f"Order {target.order_external_id}: nothing to reject now.")
                continue
            made, why = _record(request, [target], approve=False, reason=reason, comment=comment, return_decision=step)
            count += made
            refused += why
        return count, refused


class RefreshView(OrganizationViewMixin, View):
    """ "Check now": read every connected store's requests (the webhooks normally make this unnecessary)."""

    read_permission = Perm.AFTERSALES_DECIDE
    write_permission = Perm.AFTERSALES_DECIDE

    def post(self, request: HttpRequest) -> HttpResponse:
        stores = Store.objects.filter(status=StoreStatus.ACTIVE, authorization__isnull=False)
        for store in stores:
            sync_store.delay_on_commit(organization_id=str(store.organization_id), store_id=str(store.pk))
        messages.info(request, "Checking the platforms for new requests.")
        return redirect((request.POST.get("next") == "returns" and "aftersales_returns") or "aftersales_cancellations")


class SellerCancelView(OrganizationViewMixin, TemplateView):
    """The seller cancels an order (out of stock, a pricing error, ...) with the platform's reasons, seeing first what
    it does to the store's seller-cancellation rate."""

    template_name = "aftersales/seller_cancel.html"
    read_permission = Perm.AFTERSALES_DECIDE
    write_permission = Perm.AFTERSALES_DECIDE

    def _order(self, pk: object) -> Order:
        return object_or_404(Order.objects.select_related("store__authorization"), pk)

    def _context(self, order: Order, **extra: Any) -> dict[str, Any]:
        try:
            reasons, problem = services.seller_cancel_reasons(order), ""
        except (PlatformError, NotSupported) as error:
            reasons, problem = [], getattr(error, "fix", "") or str(error)
        estimate = None
        if reasons:
            try:
                estimate = services.refund_estimate(order, reasons[0])
            except (PlatformError, NotSupported):
                estimate = None
        return self.get_context_data(
            order=order,
            reasons=reasons,
            problem=problem,
            impact=services.seller_cancel_impact(order),
            estimate=estimate,
            existing=services.seller_cancellation_of(order),
            stakes=order_stakes([order.pk]).get(order.pk, []),
            **extra,
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_to_response(self._context(self._order(kwargs["pk"])))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        order = self._order(kwargs["pk"])
        existing = services.seller_cancellation_of(order)
        if existing is not None and existing.state != DecisionState.FAILED:  # a second tab, a double submit
            messages.info(request, f"Order {order.external_id} is already cancelled by you: nothing was sent twice.")
            return redirect("orders_detail", pk=order.pk)
        context = self._context(order)
        chosen = next((r for r in context["reasons"] if r.code == request.POST.get("reason")), None)
        if chosen is None:
            context["errors"] = ["Choose one of the platform's reasons for this order's status."]
            return self.render_to_response(context, status=400)
        try:
            with transaction.atomic():
                cancel, created = services.seller_cancel_request(
                    order=order,
                    reason=chosen,
                    actor=request.actor,  # type: ignore[attr-defined]
                )
        except services.DecisionRefused as error:
            context["errors"] = [str(error)]
            return self.render_to_response(context, status=400)
        if created:
            seller_cancel.delay_on_commit(organization_id=str(order.organization_id), cancel_id=str(cancel.pk))
            messages.success(request, f"Cancelling order {order.external_id} on the platform.")
        else:
            messages.info(request, f"Order {order.external_id} is already being cancelled: nothing was sent twice.")
        return redirect("orders_detail", pk=order.pk)
