"""Label handoffs: the supplier portal, the signed link for suppliers without an account, and the seller's view.

Suppliers reach a handoff only through `handoffs.handoffs_for_supplier` (portal) or
`handoffs.handoff_link_from_token` (link): another warehouse's handoff is simply not found.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from erp.actors import Actor
from erp.inputs import object_or_404
from erp.models import Membership
from erp.roles import Perm, Role
from erp.selectors import audit_entries
from erp.tenancy import organization_scope
from erp.views_base import OrganizationViewMixin
from integrations.errors import PlatformError
from integrations.interface import ShippingProvider
from integrations.services import platform_name
from inventory.models import Warehouse
from orders import seller_shipping
from orders.forms import SellerShipmentCsvForm
from orders.seller_shipping_csv import COLUMNS as SELLER_SHIPPING_COLUMNS
from orders.seller_shipping_csv import seller_shipments_import
from shipping import handoffs, own_label
from shipping.documents.printing import DOCUMENT_KINDS
from shipping.models import Handoff, HandoffLink, SupplierAccess


def _document(handoff: Handoff, kind: str, actor: Actor) -> HttpResponse:
    """One of the handoff's printouts, built from the stored labels (never bought again)."""
    if kind not in DOCUMENT_KINDS:
        raise Http404("No such document.")
    document = handoffs.handoff_document_build(
        handoff=handoff,
        kind=kind,  # type: ignore[arg-type]  # one of DOCUMENT_KINDS, checked above
        actor=actor,
    )
    response = HttpResponse(document.content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document.filename}"'
    return response


def _act(request: HttpRequest, handoff: Handoff, actor: Actor) -> None:
    """The handoff page's buttons: acknowledge, hand over (all or ticked), scan one."""
    action = request.POST.get("action", "")
    if action == "acknowledge":
        if handoffs.handoff_acknowledge(handoff=handoff, actor=actor):
            messages.success(request, "Acknowledged: the seller can see you have the labels.")
        else:
            messages.info(request, "This handoff was already acknowledged.")
    elif action == "hand_over":
        item_ids = None if request.POST.get("all") == "1" else request.POST.getlist("item")
        count = handoffs.handoff_hand_over(handoff=handoff, actor=actor, item_ids=item_ids)
        messages.success(request, f"{count} package(s) marked handed over to the carrier.")
    elif action == "scan":
        done, message = handoffs.handoff_scan(handoff=handoff, code=request.POST.get("code", ""), actor=actor)
        (messages.success if done else messages.warning)(request, message)
    else:
        messages.warning(request, "Nothing to do: choose a button.")


def _page_context(handoff: Handoff) -> dict[str, Any]:
    return {"handoff": handoff, "items": handoffs.handoff_items(handoff), "now": timezone.now()}


# ---------------------------------------------------------------------------------------------- supplier portal
class SupplierHomeView(OrganizationViewMixin, TemplateView):
    """The supplier's handoffs, newest first (only their warehouse's)."""

    template_name = "supplier/home.html"
    read_permission = Perm.HANDOFF_RECEIVE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        membership = self.request.membership
        access = SupplierAccess.objects.select_related("warehouse").filter(membership=membership).first()
        return super().get_context_data(
            access=access,
            sees_all=access is None and Perm.HANDOFF_MANAGE in membership.permissions,
            handoffs=handoffs.handoffs_for_supplier(membership)[:200],
            own_label_count=own_label.own_label_to_ship(membership).count(),
            **kwargs,
        )


class SupplierHandoffView(OrganizationViewMixin, TemplateView):
    """One handoff: orders, ship-by, downloads (`?document=`), acknowledge, hand over, scan."""

    template_name = "supplier/handoff.html"
    read_permission = Perm.HANDOFF_RECEIVE
    write_permission = Perm.HANDOFF_RECEIVE

    def _handoff(self) -> Handoff:
        return get_object_or_404(handoffs.handoffs_for_supplier(self.request.membership), pk=self.kwargs["pk"])

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        handoff = self._handoff()
        if "document" in request.GET:
            return _document(handoff, request.GET["document"], request.actor)
        return self.render_to_response(self.get_context_data(**_page_context(handoff)))

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        handoff = self._handoff()
        _act(request, handoff, request.actor)
        return redirect("supplier_handoff", pk=handoff.pk)


class HandoffLinkView(View):
    """The same page without an account: the signed link is the credential, while the seller has not revoked it
    and it has not expired. Every use is counted on the link; every action is audited as the link."""

    def _link(self, request: HttpRequest, token: str) -> HandoffLink | HttpResponse:
        link = handoffs.handoff_link_from_token(token)
        if link is None:
            return render(request, "supplier/link_expired.html", status=404)
        if link.revoked_at is not None:  # 410 Gone: it existed, and the seller withdrew it on purpose
            return render(request, "supplier/link_revoked.html", {"link": link}, status=410)
        handoffs.handoff_link_used(link)
        return link

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        link = self._link(request, token)
        if isinstance(link, HttpResponse):
            return link
        handoff = link.handoff
        with organization_scope(handoff.organization):
            if "document" in request.GET:
                actor = handoffs.link_actor(handoff, request.META.get("REMOTE_ADDR"), link)
                return _document(handoff, request.GET["document"], actor)
            return render(request, "supplier/link.html", {**_page_context(handoff), "token": token})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        link = self._link(request, token)
        if isinstance(link, HttpResponse):
            return link
        handoff = link.handoff
        with organization_scope(handoff.organization):
            _act(request, handoff, handoffs.link_actor(handoff, request.META.get("REMOTE_ADDR"), link))
        return redirect("handoff_link", token=token)


# ---------------------------------------------------------------------------------------------- seller's view
class HandoffsView(OrganizationViewMixin, TemplateView):
    """Every handoff: sent, acknowledged, handed over n/m, late against the platform's ship-by; and who at each
    supplier may work them."""

    template_name = "shipping/handoffs.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            handoffs=handoffs.handoffs_list()[:200],
            access=handoffs.supplier_access_overview(),
            **kwargs,
        )


class SupplierAccessView(OrganizationViewMixin, View):
    """Grant (or move) a supplier member's access to one supplier or 3PL warehouse, or revoke it."""

    write_permission = Perm.MEMBERS_MANAGE

    def post(self, request: HttpRequest) -> HttpResponse:
        membership = object_or_404(Membership.objects.select_related("user"), request.POST.get("member"))
        if request.POST.get("action") == "revoke":
            access = get_object_or_404(SupplierAccess.objects.select_related("warehouse"), membership=membership)
            handoffs.supplier_access_revoke(access=access, actor=request.actor)
            messages.success(request, f"{membership.user.email} no longer sees {access.warehouse.name}'s handoffs.")
            return redirect("shipping_handoffs")
        if membership.role != Role.SUPPLIER:
            messages.error(request, f"{membership.user.email} is not a supplier member: invite them as Supplier.")
            return redirect("shipping_handoffs")
        warehouse = object_or_404(Warehouse.objects.all(), request.POST.get("warehouse"))
        try:
            handoffs.supplier_access_grant(membership=membership, warehouse=warehouse, actor=request.actor)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{membership.user.email} now sees {warehouse.name}'s handoffs, and only those.")
        return redirect("shipping_handoffs")


class HandoffDetailView(OrganizationViewMixin, TemplateView):
    """One handoff for the seller: its links for suppliers without an account (who each was for, created, last
    used, revoked; "Create link" and "Revoke" are explicit buttons, viewing mints nothing) and what was done."""

    template_name = "shipping/handoff.html"
    write_permission = Perm.HANDOFF_MANAGE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        handoff = get_object_or_404(handoffs.handoffs_list(), pk=self.kwargs["pk"])
        links = [
            (link, self.request.build_absolute_uri(handoffs.handoff_link_url(link)) if link.is_active else "")
            for link in handoffs.handoff_links(handoff)
        ]
        return super().get_context_data(
            links=links,
            activity=audit_entries().filter(target_type="handoff", target_id=str(handoff.pk))[:100],
            link_hours=int(handoffs.link_max_age().total_seconds() // 3600),
            **_page_context(handoff),
        )

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        handoff = get_object_or_404(Handoff.objects, pk=pk)
        action = request.POST.get("action", "")
        if action == "link_create":
            link = handoffs.handoff_link_create(
                handoff=handoff, actor=request.actor, label=request.POST.get("label", "")
            )
            messages.success(request, f"Link created{f' for {link.label}' if link.label else ''}: copy it below.")
        elif action == "link_revoke":
            link = get_object_or_404(handoffs.handoff_links(handoff), pk=_uuid_or_404(request.POST.get("link", "")))
            if handoffs.handoff_link_revoke(link=link, actor=request.actor):
                messages.success(request, "Link revoked: it no longer works.")
            else:
                messages.info(request, "This link was already revoked.")
        else:
            _act(request, handoff, request.actor)
        return redirect("shipping_handoff", pk=handoff.pk)


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404("No such link.") from None


class SupplierOwnLabelView(OrganizationViewMixin, TemplateView):
    """Orders the supplier ships on its own label (channels without official labels): carrier and tracking entered
    or scanned per order, or a CSV; each is told to the channel once (docs/adr/0020)."""

    template_name = "supplier/own_label.html"
    read_permission = Perm.HANDOFF_RECEIVE
    write_permission = Perm.HANDOFF_RECEIVE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        membership = self.request.membership
        rows, unavailable = [], []
        known: dict[tuple[object, str], list[ShippingProvider]] = {}
        for order in own_label.own_label_to_ship(membership)[:200]:
            key = (order.store_id, order.delivery_option_id)
            if key not in known:
                try:
                    known[key] = seller_shipping.seller_shipping_carriers(order=order)
                except PlatformError:  # the channel cannot list them now: typed carriers are checked on submit
                    known[key] = []
                    unavailable.append(order.store.name)
            rows.append((order, known[key]))
        kwargs.setdefault("form", SellerShipmentCsvForm())
        return super().get_context_data(
            rows=rows,
            carriers_unavailable=sorted(set(unavailable)),
            sent=own_label.own_label_sent(membership),
            columns=SELLER_SHIPPING_COLUMNS,
            **kwargs,
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action")
        if action in ("check", "apply"):
            return self._import(request, apply=action == "apply")
        order = object_or_404(
            own_label.own_label_orders(request.membership).select_related("store__authorization"),
            request.POST.get("order"),
        )
        channel = platform_name(order.store.platform)
        try:
            shipment = seller_shipping.seller_shipment_request(
                order=order,
                carrier=request.POST.get("carrier", ""),
                tracking_number=request.POST.get("tracking_number", ""),
                actor=request.actor,
                source=own_label.SOURCE,
            )
        except seller_shipping.SellerShippingRefused as refusal:
            messages.error(request, f"Order {order.external_id}: {refusal}")
        except PlatformError as error:
            messages.error(request, f"{channel} did not list its carriers ({error.message}). Try again in a minute.")
        else:
            messages.success(
                request,
                f"Order {order.external_id}: {shipment.carrier_name} {shipment.tracking_number} recorded. "
                f"Dropline tells {channel} once; the answer shows under Sent.",
            )
        return redirect("supplier_own_label")

    def _import(self, request: HttpRequest, *, apply: bool) -> HttpResponse:
        form = SellerShipmentCsvForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        text = form.cleaned_data["text"]
        report = seller_shipments_import(
            text=text,
            actor=request.actor,
            dry_run=not apply,
            orders=own_label.own_label_orders(request.membership),
            source=own_label.SOURCE,
        )
        if report.applied:
            messages.success(request, f"{report.rows} tracking number{'s' if report.rows != 1 else ''} recorded.")
            return redirect("supplier_own_label")
        context = {"report": report, "text": text, "filename": form.cleaned_data["filename"]}
        return self.render_to_response(self.get_context_data(**context))
