"""Inventory screens: SKUs with their stock, one SKU (receive, adjust, count), stock by warehouse, listings to map,
the ledger, warehouses and their platform links, CSV import/export.

Thin: selectors read, `inventory.services` (and `csv_io`, which calls them) write; a service's ValidationError is put
back on the form it came from. Lists swap their results in place with HTMX; a full load or a shared link renders the
whole page.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from erp import clock
from erp.roles import Perm
from erp.views_base import OrganizationViewMixin
from integrations import registry
from integrations.base import Capability
from integrations.errors import PlatformError
from integrations.interface import Warehouse as PlatformWarehouse
from integrations.models import Store
from integrations.services import platform_name, store_platform_warehouses
from inventory import csv_io, selectors, services
from inventory.forms import (
    AdjustForm,
    CountForm,
    CsvImportForm,
    LedgerFilterForm,
    ListingFilterForm,
    ListingMapForm,
    ReceiveForm,
    SkuForm,
    SkuSearchForm,
    StockFilterForm,
    WarehouseForm,
    WarehouseLinkForm,
    add_service_error,
    stock_warehouses,
)
from inventory.models import Listing, Sku, StockMovement, Warehouse, WarehouseLink

PAGE_SIZE = 50
SKU_LEDGER_SIZE = 50


def _paginate(request: HttpRequest, items: QuerySet, size: int = PAGE_SIZE) -> tuple[Page, str]:
    """A page of `items` and the current query string without `page` (for the page links)."""
    page = Paginator(items, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


class InventoryPage(OrganizationViewMixin, TemplateView):
    """A page under the Inventory tabs; `results_template` is what an HTMX filter request swaps in."""

    tab: ClassVar[str] = ""
    results_template: ClassVar[str | None] = None

    def get_template_names(self) -> list[str]:
        if self.results_template and self.request.htmx and self.request.method == "GET":
            return [self.results_template]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        if not (self.results_template and self.request.htmx):
            kwargs.setdefault("unmapped_count", selectors.listings_unmapped_count())
        return super().get_context_data(tab=self.tab, **kwargs)


# ------------------------------------------------------------------------------------------------------- SKUs
class InventoryHomeView(InventoryPage):
    """The SKU list: stock totals across warehouses, LOW badges, search."""

    template_name = "inventory/home.html"
    results_template = "inventory/_sku_results.html"
    tab = "skus"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = SkuSearchForm(self.request.GET or None)
        skus = selectors.skus_with_totals().order_by("code")
        if form.is_valid():
            skus = selectors.skus_search(skus, form.cleaned_data["q"])
            if form.cleaned_data["low"]:
                skus = skus.filter(is_low=True)
            if not form.cleaned_data["inactive"]:
                skus = skus.filter(is_active=True)
        else:
            skus = skus.filter(is_active=True)
        page, querystring = _paginate(self.request, skus)
        has_skus = bool(page.object_list) or Sku.objects.exists()
        return super().get_context_data(
            form=form,
            page=page,
            querystring=querystring,
            has_skus=has_skus,
            has_warehouses=Warehouse.objects.exists() if not has_skus else True,
            **kwargs,
        )


class SkuCreateView(InventoryPage):
    template_name = "inventory/sku_form.html"
    tab = "skus"
    write_permission = Perm.INVENTORY_MANAGE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("form", SkuForm())
        return super().get_context_data(**kwargs)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SkuForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        try:
            sku = services.sku_save(actor=request.actor, fields=form.model_fields(), suppliers=form.supplier_links())
        except ValidationError as error:
            form.add_error(None, error)
            return self.render_to_response(self.get_context_data(form=form))
        messages.success(request, f"SKU {sku.code} created. Receive its stock below.")
        return redirect("inventory_sku_detail", pk=sku.pk)


class SkuDetailView(InventoryPage):
    """One SKU: its attributes, its stock in every warehouse (with receive, adjust and count), its ledger and its
    listings. POST here saves the attributes."""

    template_name = "inventory/sku_detail.html"
    tab = "skus"
    write_permission = Perm.INVENTORY_MANAGE

    def get_sku(self) -> Sku:
        return get_object_or_404(selectors.skus_with_totals(), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        sku = kwargs.pop("sku", None) or self.get_sku()
        levels = {level.warehouse_id: level for level in sku.stock_levels.all()}
        warehouses = list(Warehouse.objects.all())
        stockable = [w for w in warehouses if w.is_active and w.tracks_stock and not w.is_platform_fulfilment]
        rows = [
            {"warehouse": w, "level": levels.get(w.pk), "stockable": w in stockable}
            for w in warehouses
            if w.is_active or w.pk in levels
        ]
        # "Receive here" / "Count here" links on a warehouse's row preselect it in the forms.
        chosen = next((w for w in stockable if str(w.pk) == self.request.GET.get("warehouse")), None)
        initial = {"warehouse": chosen or (stockable[0] if len(stockable) == 1 else None)}
        for name, form_class in (("receive", ReceiveForm), ("adjust", AdjustForm), ("count", CountForm)):
            kwargs.setdefault(f"{name}_form", form_class(initial=initial, warehouses=stockable))
        kwargs.setdefault("edit_form", SkuForm(instance=sku))
        return super().get_context_data(
            sku=sku,
            rows=rows,
            can_move_stock=bool(stockable),
            movements=StockMovement.objects.filter(sku=sku).select_related("warehouse")[:SKU_LEDGER_SIZE],
            listings=sku.listings.select_related("store").order_by("store__name", "seller_sku"),
            **kwargs,
        )

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        sku = self.get_sku()
        form = SkuForm(request.POST, instance=sku)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(sku=sku, edit_form=form, open_form="edit"))
        if form.has_changed():
            try:
                services.sku_save(
                    actor=request.actor, sku=sku, fields=form.model_fields(), suppliers=form.supplier_links()
                )
            except ValidationError as error:
                form.add_error(None, error)
                return self.render_to_response(self.get_context_data(sku=sku, edit_form=form, open_form="edit"))
            messages.success(request, f"{sku.code} saved.")
        return redirect("inventory_sku_detail", pk=sku.pk)


class _SkuStockChangeView(SkuDetailView):
    """POST only: one stock change through its service; the service's refusal is shown on the form."""

    http_method_names: ClassVar[list[str]] = ["post"]
    form_class: ClassVar[type[forms.Form]]
    form_name: ClassVar[str]

    def change(self, sku: Sku, data: dict[str, Any]) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        sku = self.get_sku()
        form = self.form_class(request.POST, warehouses=list(stock_warehouses()))
        if form.is_valid():
            try:
                message = self.change(sku, form.cleaned_data)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, message)
                return redirect(reverse("inventory_sku_detail", kwargs={"pk": sku.pk}) + "#stock")
        context = self.get_context_data(sku=sku, open_form=self.form_name, **{f"{self.form_name}_form": form})
        return self.render_to_response(context)


def _level_summary(level: Any) -> str:
    return f"now {level.on_hand} on hand, {level.reserved} reserved, {level.available} available"


class SkuReceiveView(_SkuStockChangeView):
    form_class = ReceiveForm
    form_name = "receive"

    def change(self, sku: Sku, data: dict[str, Any]) -> str:
        level = services.stock_receive(
            sku=sku,
            warehouse=data["warehouse"],
            quantity=data["quantity"],
            actor=self.request.actor,
            reason=data["reason"],
            reference=data["reference"],
        )
        return f"Received {data['quantity']} × {sku.code} at {data['warehouse'].name}: {_level_summary(level)}."


class SkuAdjustView(_SkuStockChangeView):
    form_class = AdjustForm
    form_name = "adjust"

    def change(self, sku: Sku, data: dict[str, Any]) -> str:
        level = services.stock_adjust(
            sku=sku, warehouse=data["warehouse"], delta=data["delta"], actor=self.request.actor, reason=data["reason"]
        )
        return f"Adjusted {sku.code} at {data['warehouse'].name} by {data['delta']:+d}: {_level_summary(level)}."


class SkuCountView(_SkuStockChangeView):
    form_class = CountForm
    form_name = "count"

    def change(self, sku: Sku, data: dict[str, Any]) -> str:
        level = services.stock_count(
            sku=sku,
            warehouse=data["warehouse"],
            counted=data["counted"],
            actor=self.request.actor,
            reference=data["reference"],
        )
        return f"Counted {data['counted']} × {sku.code} at {data['warehouse'].name}: {_level_summary(level)}."


# ------------------------------------------------------------------------------------------ stock by warehouse
class StockView(InventoryPage):
    template_name = "inventory/stock.html"
    results_template = "inventory/_stock_results.html"
    tab = "stock"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = StockFilterForm(self.request.GET or None)
        levels = selectors.stock_levels()
        if form.is_valid():
            data = form.cleaned_data
            if data["q"]:
                levels = levels.filter(sku__in=selectors.skus_search(Sku.objects.all(), data["q"]))
            if data["warehouse"]:
                levels = levels.filter(warehouse=data["warehouse"])
            if data["in_stock"]:
                levels = levels.filter(on_hand__gt=0)
        page, querystring = _paginate(self.request, levels)
        return super().get_context_data(form=form, page=page, querystring=querystring, **kwargs)


# ------------------------------------------------------------------------------------------------------ ledger
class LedgerView(InventoryPage):
    template_name = "inventory/ledger.html"
    results_template = "inventory/_ledger_results.html"
    tab = "ledger"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = LedgerFilterForm(self.request.GET or None)
        movements = selectors.ledger()
        if form.is_valid():
            data = form.cleaned_data
            tz = clock.organization_zone(self.request.organization)
            if data["sku"]:
                movements = movements.filter(sku__code__iexact=data["sku"].strip())
            if data["warehouse"]:
                movements = movements.filter(warehouse=data["warehouse"])
            if data["kind"]:
                movements = movements.filter(kind=data["kind"])
            if data["since"]:
                movements = movements.filter(created_at__gte=clock.day_start(data["since"], tz))
            if data["until"]:
                movements = movements.filter(created_at__lte=datetime.combine(data["until"], time.max, tzinfo=tz))
        page, querystring = _paginate(self.request, movements)
        return super().get_context_data(form=form, page=page, querystring=querystring, **kwargs)


# ---------------------------------------------------------------------------------------------------- listings
class ListingsView(InventoryPage):
    template_name = "inventory/listings.html"
    results_template = "inventory/_listing_results.html"
    tab = "listings"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = ListingFilterForm(self.request.GET or None)
        listings = selectors.listings_unmapped_first()
        if form.is_valid():
            data = form.cleaned_data
            if data["q"]:
                listings = selectors.listings_search(listings, data["q"])
            if data["store"]:
                listings = listings.filter(store=data["store"])
            if data["mapped"]:
                listings = listings.filter(sku__isnull=data["mapped"] == "no")
        page, querystring = _paginate(self.request, listings)
        return super().get_context_data(
            form=form,
            page=page,
            querystring=querystring,
            sku_choices=selectors.sku_codes_for_picker(),
            has_listings=bool(page.object_list) or Listing.objects.exists(),
            **kwargs,
        )


class ListingsCreateSkusView(OrganizationViewMixin, View):
    """POST: a SKU of ours for every unmapped listing, by its seller SKU (first-time setup)."""

    write_permission = Perm.INVENTORY_MANAGE

    def post(self, request: HttpRequest) -> HttpResponse:
        created, mapped = services.skus_create_from_listings(actor=request.actor)
        if mapped:
            messages.success(
                request,
                f"Mapped {mapped} listing(s), creating {created} new SKU(s) from their seller SKUs. Orders waiting "
                "for them are checked again; add stock or a supplier warehouse so they can ship.",
            )
        else:
            messages.info(request, "Nothing to do: every listing with a seller SKU is mapped already.")
        return redirect("inventory_listings")


class ListingMapView(OrganizationViewMixin, View):
    """POST: map a listing to one of our SKUs (by code, or id). HTMX answers with the listing's row."""

    write_permission = Perm.INVENTORY_MANAGE

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        listing = get_object_or_404(Listing.objects.select_related("store", "sku"), pk=pk)
        form = ListingMapForm(request.POST)
        mapped = False
        if form.is_valid():
            sku = form.cleaned_data["sku"]
            try:
                listing = services.listing_map(listing=listing, sku=sku, actor=request.actor)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                mapped = True
        if request.htmx:
            context = {
                "listing": listing,
                "map_form": form,
                "just_mapped": mapped,
                "unmapped_count": selectors.listings_unmapped_count(),
                "update_badge": True,
            }
            return render(request, "inventory/_listing_row.html", context)
        if mapped:
            messages.success(request, _mapped_message(listing))
        else:
            messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
        return redirect("inventory_listings")


def _mapped_message(listing: Listing) -> str:
    name = listing.seller_sku or listing.platform_sku_id
    return f"{name} ({listing.store.name}) is now {listing.sku.code}. Orders held for it are given stock now."


# -------------------------------------------------------------------------------------------------- warehouses
class WarehousesView(InventoryPage):
    template_name = "inventory/warehouses.html"
    tab = "warehouses"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(warehouses=selectors.warehouses_with_totals(), **kwargs)


class WarehouseCreateView(InventoryPage):
    template_name = "inventory/warehouse_form.html"
    tab = "warehouses"
    write_permission = Perm.INVENTORY_MANAGE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("form", WarehouseForm())
        return super().get_context_data(**kwargs)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = WarehouseForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        try:
            warehouse = services.warehouse_save(actor=request.actor, fields=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
            return self.render_to_response(self.get_context_data(form=form))
        messages.success(request, f"{warehouse.name} added.")
        return redirect("inventory_warehouse_detail", pk=warehouse.pk)


class WarehouseDetailView(InventoryPage):
    """One warehouse: its settings (POST saves them) and its links to the stores' platform warehouses."""

    template_name = "inventory/warehouse_detail.html"
    tab = "warehouses"
    write_permission = Perm.INVENTORY_MANAGE

    def get_warehouse(self) -> Warehouse:
        return get_object_or_404(Warehouse.objects, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        warehouse = kwargs.pop("warehouse", None) or self.get_warehouse()
        kwargs.setdefault("form", WarehouseForm(instance=warehouse))
        platform_warehouses, unreachable = self.platform_warehouses()
        kwargs.setdefault("link_form", WarehouseLinkForm(platform_warehouses=platform_warehouses))
        totals = selectors.warehouses_with_totals().filter(pk=warehouse.pk).first()
        return super().get_context_data(
            warehouse=warehouse,
            totals=totals,
            platform_unreachable=unreachable,
            links=warehouse.links.select_related("store").order_by("store__name", "platform_warehouse_id"),
            **kwargs,
        )

    def platform_warehouses(self) -> tuple[dict[Store, list[PlatformWarehouse]], list[str]]:
        """Each TikTok store's warehouses, as the shop lists them, and why a store's could not be read."""
        found: dict[Store, list[PlatformWarehouse]] = {}
        unreachable: list[str] = []
        if Perm.INVENTORY_MANAGE not in self.request.permissions:
            return found, unreachable
        stores = list(
            Store.objects.filter(platform__in=registry.platforms_with(Capability.LOCATIONS)).select_related(
                "authorization"
            )
        )
        for index, store in enumerate(stores):
            try:
                found[store] = store_platform_warehouses(store)
            except PlatformError as error:
                unreachable.append(f"{store.name}: {error}")
                if error.code in ("transport", "unreachable"):  # the platform itself is down: not one wait per shop
                    unreachable += [f"{later.name}: not asked, TikTok did not answer" for later in stores[index + 1 :]]
                    break
        return found, unreachable

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        warehouse = self.get_warehouse()
        form = WarehouseForm(request.POST, instance=warehouse)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(warehouse=warehouse, form=form))
        if form.has_changed():
            try:
                services.warehouse_save(actor=request.actor, warehouse=warehouse, fields=form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
                return self.render_to_response(self.get_context_data(warehouse=warehouse, form=form))
            messages.success(request, f"{warehouse.name} saved.")
        return redirect("inventory_warehouse_detail", pk=warehouse.pk)


class WarehouseLinkAddView(WarehouseDetailView):
    http_method_names: ClassVar[list[str]] = ["post"]

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        warehouse = self.get_warehouse()
        form = WarehouseLinkForm(request.POST, platform_warehouses=self.platform_warehouses()[0])
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(warehouse=warehouse, link_form=form))
        try:
            link = services.warehouse_link_add(
                actor=request.actor,
                warehouse=warehouse,
                store=form.cleaned_data["store"],
                platform_warehouse_id=form.cleaned_data["platform_warehouse_id"],
                platform_name=form.cleaned_data["platform_name"],
                platform_address=form.cleaned_data["platform_address"],
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.render_to_response(self.get_context_data(warehouse=warehouse, link_form=form))
        messages.success(
            request,
            f"{link.store.name}'s {platform_name(link.store.platform)} warehouse "
            f"{link.platform_name or link.platform_warehouse_id} "
            f"is {warehouse.name}.",
        )
        return redirect(f"{warehouse_url(warehouse)}#links")


class WarehouseLinkRemoveView(OrganizationViewMixin, View):
    write_permission = Perm.INVENTORY_MANAGE

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        link = get_object_or_404(WarehouseLink.objects.select_related("store", "warehouse"), pk=pk)
        warehouse = link.warehouse
        services.warehouse_link_remove(actor=request.actor, link=link)
        messages.success(request, f"Unlinked {link.store.name}'s warehouse {link.platform_warehouse_id}.")
        return redirect(f"{warehouse_url(warehouse)}#links")


def warehouse_url(warehouse: Warehouse) -> str:
    return reverse("inventory_warehouse_detail", kwargs={"pk": warehouse.pk})


# ---------------------------------------------------------------------------------------------- import/export
class ImportView(InventoryPage):
    """Upload a CSV, check it (a dry run: every error and every change), then apply the same content."""

    template_name = "inventory/import.html"
    tab = "import"
    write_permission = Perm.INVENTORY_MANAGE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("form", CsvImportForm(initial={"kind": self.request.GET.get("kind", "skus")}))
        formats = [
            {"label": label, "columns": [(c, c in csv_io.REQUIRED[kind]) for c in csv_io.COLUMNS[kind]]}
            for kind, label in CsvImportForm.KINDS
        ]
        return super().get_context_data(formats=formats, **kwargs)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CsvImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        kind, text = form.cleaned_data["kind"], form.cleaned_data["text"]
        apply = request.POST.get("action") == "apply"
        report = csv_io.csv_import(kind=kind, text=text, actor=request.actor, dry_run=not apply)
        if report.applied:
            messages.success(request, f"Imported {report.rows} row{'s' if report.rows != 1 else ''}.")
        # The checked content rides along in a hidden field, so "Apply" applies exactly what was checked.
        context = {"report": report, "text": text, "kind": kind, "filename": form.cleaned_data["filename"]}
        return self.render_to_response(self.get_context_data(form=CsvImportForm(initial={"kind": kind}), **context))


class ExportView(OrganizationViewMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        kind = request.GET.get("kind", "skus")
        if kind not in csv_io.COLUMNS:
            kind = "skus"
        response = HttpResponse(csv_io.csv_export(kind), content_type="text/csv; charset=utf-8")
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="dropline-{kind}-{stamp}.csv"'
        return response
