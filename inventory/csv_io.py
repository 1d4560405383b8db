"""CSV import and export of SKUs, listing mappings and stock counts.

Every import is validated whole before anything is written: a dry run returns the per-row report (line numbers,
column, what is wrong, what would change); applying a file with any bad row changes nothing. Applying is one
transaction and goes through the same services as the dashboard (ledger entries for counts).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from erp.actors import Actor
from erp.csv_cells import csv_cell_unquote, csv_writer
from erp.inputs import parse_units
from integrations.models import Store
from inventory import services
from inventory.models import (
    SKU_EDITABLE_FIELDS,
    DimensionUnit,
    Listing,
    Sku,
    SkuSupplier,
    StockLevel,
    Warehouse,
    WarehouseKind,
    WeightUnit,
)

MAX_ROWS = 50_000


@dataclass(frozen=True)
class RowError:
    line: int  # the line in the file (the header is line 1)
    column: str
    message: str


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # what applying does (or did), one line per row
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


COLUMNS: dict[str, tuple[str, ...]] = {
    # supplier / supplier_cost: one dropship supplier (by name or code) that supplies the SKU, and its price.
    "skus": (*(name for name in SKU_EDITABLE_FIELDS if name != "is_active"), "supplier", "supplier_cost"),
    "listings": ("store", "platform_sku_id", "sku_code"),
    "stock": ("sku_code", "warehouse", "counted", "bin_location"),
}
REQUIRED = {
    "skus": ("code", "name"),
    "listings": ("store", "platform_sku_id"),
    "stock": ("sku_code", "warehouse", "counted"),
}


def _rows(text: str, kind: str, report: ImportReport) -> Iterator[tuple[int, dict[str, str]]]:
    return csv_rows(text, columns=COLUMNS[kind], required=REQUIRED[kind], report=report)


def csv_rows(
    text: str, *, columns: tuple[str, ...], required: tuple[str, ...], report: ImportReport
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV with these columns, header checked, blank lines skipped, values stripped; every
    CSV import (inventory, seller-shipping tracking) reads its file through this."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a byte-order mark
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    unknown = [name for name in header if name not in columns]
    if missing:
        report.errors.append(RowError(1, ", ".join(missing), f"missing column(s); expected {', '.join(columns)}"))
    if unknown:
        report.errors.append(RowError(1, ", ".join(unknown), "unknown column(s)"))
    if missing or unknown:
        return
    reader.fieldnames = header
    number = 1
    try:
        for number, row in enumerate(reader, start=2):
            if number - 1 > MAX_ROWS:
                report.errors.append(RowError(number, "", f"more than {MAX_ROWS} rows: split the file"))
                return
            if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
                continue  # blank line
            report.rows += 1
            # A cell our own export neutralized ('=…) imports as the text it stood for: export, edit, import
            # round-trips.
            cells = {
                key: csv_cell_unquote((value or "").strip())
                for key, value in row.items()
                if key and isinstance(value, str)
            }
            nul = [key for key, value in cells.items() if "\x00" in value]
            if nul:  # PostgreSQL cannot store NUL: the row is refused here, not by the database
                report.errors.append(RowError(number, ", ".join(nul), "contains a NUL character"))
                continue
            yield number, cells
    except csv.Error as error:  # a cell over csv.field_size_limit() (131,072 characters), a stray quote...
        report.errors.append(RowError(number + 1, "", f"the file cannot be read past here: {error}"))


def _model_value(model: type[Model], name: str, value: str, line: int, errors: list[RowError], column: str = "") -> Any:
    """A cell checked by its model field, as the form and the API check it (digits, length, range, validators):
    one validation per field (docs/adr/0014). A blank cell of a nullable column is None."""
    field = model._meta.get_field(name)
    if value == "" and field.null:
        return None
    try:
        return field.clean(value, None)
    except ValidationError as error:
        errors.append(RowError(line, column or name, " ".join(error.messages)))
        return None


def _units(value: str, line: int, column: str, errors: list[RowError]) -> int | None:
    try:
        number = parse_units(value)
    except ValidationError as error:
        errors.append(RowError(line, column, " ".join(error.messages)))
        return None
    if number < 0:
        errors.append(RowError(line, column, "cannot be negative"))
        return None
    return number


# --------------------------------------------------------------------------------------------------------- SKUs
def _plan_skus(text: str, report: ImportReport) -> list[Callable[[], None]]:
    existing = {sku.code: sku for sku in Sku.objects.all()}
    suppliers: dict[str, Warehouse] = {}
    for warehouse in Warehouse.objects.filter(kind=WarehouseKind.SUPPLIER):
        suppliers[warehouse.name.lower()] = warehouse
        if warehouse.code:
            suppliers.setdefault(warehouse.code.lower(), warehouse)
    seen: dict[str, int] = {}
    plan: list[Callable[[], None]] = []
    for line, row in _rows(text, "skus", report):
        errors: list[RowError] = []
        code = row.get("code", "")
        if not code:
            errors.append(RowError(line, "code", "required"))
        elif code in seen:
            errors.append(RowError(line, "code", f"{code} already appears on line {seen[code]}"))
        else:
            _model_value(Sku, "code", code, line, errors)  # its length
        seen.setdefault(code, line)
        if not row.get("name"):
            errors.append(RowError(line, "name", "required"))
        # Only the columns the file has are written: a file without a barcode column leaves barcodes alone.
        values: dict[str, Any] = {}
        for column in ("name", "barcode", "weight", "length", "width", "height", "cost"):
            if column in row and (column != "name" or row[column]):
                values[column] = _model_value(Sku, column, row[column], line, errors)
        if row.get("weight_unit"):
            if row["weight_unit"] not in WeightUnit.values:
                errors.append(RowError(line, "weight_unit", f"use one of {', '.join(WeightUnit.values)}"))
            values["weight_unit"] = row["weight_unit"]
        if row.get("dimension_unit"):
            if row["dimension_unit"] not in DimensionUnit.values:
                errors.append(RowError(line, "dimension_unit", f"use one of {', '.join(DimensionUnit.values)}"))
            values["dimension_unit"] = row["dimension_unit"]
        if row.get("low_stock_threshold"):
            values["low_stock_threshold"] = _units(row["low_stock_threshold"], line, "low_stock_threshold", errors)
        supplier = None
        if row.get("supplier"):
            supplier = suppliers.get(row["supplier"].strip().lower())
            if supplier is None:
                errors.append(RowError(line, "supplier", f"no dropship supplier named {row['supplier']}"))
        elif row.get("supplier_cost"):
            errors.append(RowError(line, "supplier_cost", "give the supplier it is the price of"))
        supplier_cost = _model_value(SkuSupplier, "cost", row.get("supplier_cost", ""), line, errors, "supplier_cost")
        report.errors += errors
        if errors:
            continue
        values = {k: v for k, v in values.items() if v is not None or k in row}
        sku = existing.get(code)
        if sku is None:
            report.changes.append(f"line {line}: create {code}")
            plan.append(lambda code=code, values=values: Sku.objects.create(code=code, **values))
        else:
            changed = {k: v for k, v in values.items() if getattr(sku, k) != v}
            report.changes.append(f"line {line}: update {code} ({', '.join(changed) or 'no change'})")
            if changed:
                plan.append(lambda pk=sku.pk, changed=changed: Sku.objects.filter(pk=pk).update(**changed))
        if supplier is not None:
            report.changes.append(f"line {line}: {code} supplied by {supplier.name}")
            plan.append(
                lambda code=code, supplier=supplier, cost=supplier_cost: SkuSupplier.objects.update_or_create(
                    sku=Sku.objects.get(code=code), warehouse=supplier, defaults={"cost": cost}
                )
            )
    return plan


# --------------------------------------------------------------------------------------------------- listings
def _plan_listings(text: str, report: ImportReport, actor: Actor) -> list[Callable[[], None]]:
    stores = {}
    for store in Store.objects.all():
        stores[store.name.lower()] = store
        stores[store.external_id] = store
    skus = {sku.code: sku for sku in Sku.objects.all()}
    plan: list[Callable[[], None]] = []
    for line, row in _rows(text, "listings", report):
        store = stores.get(row["store"].lower()) or stores.get(row["store"])
        if store is None:
            report.errors.append(RowError(line, "store", f"no store named or numbered “{row['store']}”"))
            continue
        listing = Listing.objects.filter(store=store, platform_sku_id=row["platform_sku_id"]).first()
        if listing is None:
            report.errors.append(
                RowError(
                    line,
                    "platform_sku_id",
                    f"{row['platform_sku_id']} is not a listing of {store.name} yet "
                    "(listings appear when their orders are imported)",
                )
            )
            continue
        code = row.get("sku_code", "")
        sku = skus.get(code) if code else None
        if code and sku is None:
            report.errors.append(RowError(line, "sku_code", f"no SKU {code}: import it first"))
            continue
        report.changes.append(f"line {line}: {listing} → {sku or 'unmapped'}")
        plan.append(lambda listing=listing, sku=sku: services.listing_map(listing=listing, sku=sku, actor=actor))
    return plan


# ------------------------------------------------------------------------------------------------------- stock
def _plan_stock(text: str, report: ImportReport, actor: Actor, reference: str) -> list[Callable[[], None]]:
    skus = {sku.code: sku for sku in Sku.objects.all()}
    warehouses = {}
    for warehouse in Warehouse.objects.all():
        warehouses[warehouse.name.lower()] = warehouse
        if warehouse.code:
            warehouses[warehouse.code.lower()] = warehouse
    levels = {(lv.sku_id, lv.warehouse_id): lv for lv in StockLevel.objects.all()}
    seen: dict[tuple[str, str], int] = {}
    plan: list[Callable[[], None]] = []
    for line, row in _rows(text, "stock", report):
        errors: list[RowError] = []
        sku = skus.get(row["sku_code"])
        warehouse = warehouses.get(row["warehouse"].lower())
        if sku is None:
            errors.append(RowError(line, "sku_code", f"no SKU {row['sku_code']}"))
        if warehouse is None:
            errors.append(RowError(line, "warehouse", f"no warehouse named or coded “{row['warehouse']}”"))
        elif warehouse.is_platform_fulfilment:
            errors.append(
                RowError(line, "warehouse", f"{warehouse.name} is stock held by {warehouse.held_by}: not counted here")
            )
        counted = _units(row["counted"], line, "counted", errors)
        key = (row["sku_code"], row["warehouse"].lower())
        if key in seen:
            errors.append(RowError(line, "", f"the same SKU and warehouse as line {seen[key]}"))
        seen.setdefault(key, line)
        if not errors and sku and warehouse and counted is not None:
            level = levels.get((sku.pk, warehouse.pk))
            reserved = level.reserved if level else 0
            if counted < reserved:
                errors.append(RowError(line, "counted", f"{reserved} units are reserved for orders; counted {counted}"))
        report.errors += errors
        if errors or sku is None or warehouse is None or counted is None:
            continue
        before = level.on_hand if level else 0
        report.changes.append(f"line {line}: {sku.code} @ {warehouse.name}: {before} → {counted}")
        bin_location = row.get("bin_location", "")

        def apply(
            sku: Sku = sku, warehouse: Warehouse = warehouse, counted: int = counted, bin_location: str = bin_location
        ) -> None:
            services.stock_count(sku=sku, warehouse=warehouse, counted=counted, actor=actor, reference=reference)
            if bin_location:
                StockLevel.objects.filter(sku=sku, warehouse=warehouse).update(bin_location=bin_location[:40])

        plan.append(apply)
    return plan


def csv_import(*, kind: str, text: str, actor: Actor, dry_run: bool, reference: str = "CSV import") -> ImportReport:
    """Validate the whole file; unless `dry_run`, and only if every row is valid, apply it in one transaction."""
    if kind not in COLUMNS:
        raise ValueError(f"unknown CSV kind {kind}")
    report = ImportReport(kind=kind)
    with transaction.atomic():
        if kind == "skus":
            plan = _plan_skus(text, report)
        elif kind == "listings":
            plan = _plan_listings(text, report, actor)
        else:
            plan = _plan_stock(text, report, actor, reference)
        if report.rows == 0 and not report.errors:
            report.errors.append(RowError(1, "", "the file has no rows"))
        if dry_run or not report.ok:
            return report
        for step in plan:
            step()
        report.applied = True
    return report


def csv_export(kind: str) -> str:
    out = io.StringIO()
    writer = csv_writer(out)  # text cells formula-safe (erp/csv_cells.py)
    writer.writerow(COLUMNS[kind])
    if kind == "skus":
        for sku in Sku.objects.order_by("code").prefetch_related("supplier_links__warehouse"):
            link = next(iter(sku.supplier_links.all()), None)  # the first supplier (a file row holds one)
            writer.writerow(
                [
                    sku.code,
                    sku.name,
                    sku.barcode,
                    sku.weight or "",
                    sku.weight_unit,
                    sku.length or "",
                    sku.width or "",
                    sku.height or "",
                    sku.dimension_unit,
                    sku.cost or "",
                    sku.low_stock_threshold,
                    link.warehouse.name if link else "",
                    link.cost if link and link.cost is not None else "",
                ]
            )
    elif kind == "listings":
        for listing in Listing.objects.select_related("store", "sku").order_by("store__name", "seller_sku"):
            writer.writerow([listing.store.name, listing.platform_sku_id, listing.sku.code if listing.sku else ""])
    else:
        for level in StockLevel.objects.select_related("sku", "warehouse").order_by("sku__code", "warehouse__name"):
            writer.writerow([level.sku.code, level.warehouse.name, level.on_hand, level.bin_location])
    return out.getvalue()
