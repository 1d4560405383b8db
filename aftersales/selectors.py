"""Reads for the after-sales inboxes: what waits for the seller, soonest deadline first, with what is at stake."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from django.db.models import Count, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from aftersales.models import CancellationRequest, Decision, DecisionState, ReturnRequest
from erp.models import Organization
from erp.tenancy import current_organization
from integrations.interface import AfterSaleStatus
from shipping.at_risk import AtRiskRequest
from shipping.selectors import Stake, order_stakes

AT_RISK_WITHIN = timedelta(hours=24)  # a request due within this is "close to its deadline"


@dataclass
class InboxRow:
    request: CancellationRequest | ReturnRequest
    decision: Decision | None  # the newest decision at the request's current step, if any
    stakes: list[Stake] = field(default_factory=list)

    @property
    def sending(self) -> bool:
        return self.decision is not None and self.decision.state in (DecisionState.PENDING, DecisionState.SUBMITTING)

    @property
    def refused(self) -> bool:
        return self.decision is not None and self.decision.state == DecisionState.FAILED

    @property
    def due_soon(self) -> bool:
        due = self.request.respond_by
        return due is not None and due - timezone.now() < AT_RISK_WITHIN


def _with_decisions(requests: QuerySet) -> QuerySet:
    return requests.select_related("store", "order").prefetch_related(
        Prefetch("decisions", queryset=Decision.objects.order_by("-created_at"))
    )


def _rows(requests: list[CancellationRequest] | list[ReturnRequest], *, stakes: bool) -> list[InboxRow]:
    at_stake = order_stakes([r.order_id for r in requests if r.order_id]) if stakes else {}
    rows = []
    for request in requests:
        step = request.platform_status or request.status
        decision = next((d for d in request.decisions.all() if d.step == step), None)
        if decision is not None and decision.state == DecisionState.DONE:
            continue  # decided: it leaves the inbox even before the platform's copy is read again
        rows.append(InboxRow(request, decision, at_stake.get(request.order_id, []) if request.order_id else []))
    return rows


def cancellations_to_decide(*, store_id: UUID | None = None) -> list[InboxRow]:
    requests = CancellationRequest.objects.filter(needs_decision=True)
    if store_id:
        requests = requests.filter(store_id=store_id)
    ordered = _with_decisions(requests).order_by(
        "respond_by", "requested_at"
    )  # nulls last on PostgreSQL, first on SQLite: both fine
    return _rows(list(ordered[:500]), stakes=True)


def returns_to_decide(*, store_id: UUID | None = None) -> list[InboxRow]:
    requests = ReturnRequest.objects.exclude(decisions_open=[])
    if store_id:
        requests = requests.filter(store_id=store_id)
    return _rows(list(_with_decisions(requests).order_by("respond_by", "requested_at")[:500]), stakes=True)


def cancellations_recent(*, limit: int = 50) -> QuerySet[CancellationRequest]:
    """Requests no longer waiting for the seller, newest change first (what happened to each)."""
    return _with_decisions(CancellationRequest.objects.filter(needs_decision=False)).order_by("-platform_updated_at")[
        :limit
    ]


def returns_recent(*, limit: int = 50) -> QuerySet[ReturnRequest]:
    return _with_decisions(ReturnRequest.objects.filter(decisions_open=[])).order_by("-platform_updated_at")[:limit]


def to_decide_counts() -> dict[str, int]:
    """For the navigation: how many requests wait for the seller (one query, on every page)."""
    cancellations = (
        CancellationRequest.objects.filter(needs_decision=True)
        .exclude(decisions__state=DecisionState.DONE)
        .values("organization")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    returns = ReturnRequest.objects.exclude(decisions_open=[]).values("organization").annotate(n=Count("pk"))
    row = (
        Organization.objects.filter(pk=current_organization().pk)
        .annotate(
            cancellations=Coalesce(Subquery(cancellations), 0),
            returns=Coalesce(Subquery(returns.values("n")[:1]), 0),
        )
        .values("cancellations", "returns")
        .first()
    )
    return (
        {"cancellations": row["cancellations"], "returns": row["returns"]}
        if row
        else {"cancellations": 0, "returns": 0}
    )


def requests_due_soon(*, within: timedelta = AT_RISK_WITHIN) -> list[CancellationRequest | ReturnRequest]:
    """Requests whose response deadline is within `within` and not yet decided (for "At risk")."""
    soon = timezone.now() + within
    pending = ~Q(decisions__state__in=[DecisionState.DONE, DecisionState.PENDING, DecisionState.SUBMITTING])
    found: list[CancellationRequest | ReturnRequest] = list(
        CancellationRequest.objects.filter(needs_decision=True, respond_by__lte=soon)
        .filter(pending)
        .select_related("order", "store")
    )
    found += list(
        ReturnRequest.objects.exclude(decisions_open=[])
        .filter(respond_by__lte=soon, status=AfterSaleStatus.PENDING)
        .filter(pending)
        .select_related("order", "store")
    )
    return sorted(found, key=lambda r: r.respond_by or timezone.now())


def order_requests(order_id: UUID) -> tuple[list[CancellationRequest], list[ReturnRequest]]:
    """An order's requests, for its page."""
    return (
        list(_with_decisions(CancellationRequest.objects.filter(order_id=order_id)).order_by("-requested_at")),
        list(_with_decisions(ReturnRequest.objects.filter(order_id=order_id)).order_by("-requested_at")),
    )


def requests_at_risk() -> list[AtRiskRequest]:
    """The requests close to their deadline, as "At risk" lists them."""
    items = []
    for request in requests_due_soon():
        if isinstance(request, CancellationRequest):
            what, url, label = "Cancellation request", reverse("aftersales_cancellations"), "Decide"
        else:
            what, url, label = (
                f"{request.get_kind_display().capitalize()} request",
                reverse("aftersales_returns"),
                "Decide",
            )
        reason = request.reason_text or request.reason_code
        assert request.respond_by is not None  # requests_due_soon filters on it
        items.append(
            AtRiskRequest(
                order_ref=request.order_external_id,
                order_id=request.order_id,
                what=f"{what}: {reason}" if reason else what,
                due_at=request.respond_by,
                fix_url=url,
                fix_label=label,
            )
        )
    return items
