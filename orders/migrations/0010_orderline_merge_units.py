"""One row per unit becomes one row per SKU and state with a quantity (docs: orders.models.OrderLine).

Forwards: an order's unit rows alike in everything but their id merge into the row with the smallest id, which keeps
every unit's id in `platform_line_ids`. Backwards: each row splits again into one row per unit id. Rows are read in
order and written in batches, so a large table is not held in memory."""

from itertools import groupby

from django.db import migrations

# Everything a unit row says apart from its id: units equal in all of these are the same line.
CONTENT = (
    "order_id",
    "sku_id",
    "seller_sku",
    "product_id",
    "product_name",
    "sku_name",
    "image_url",
    "unit_price",
    "currency",
    "package_id",
    "package_status",
    "tracking_number",
    "is_gift",
    "is_cancelled",
)
BATCH = 2000


def _unit_ids(line):
    return list(line.platform_line_ids) or [line.external_id]


def forwards(apps, schema_editor):
    OrderLine = apps.get_model("orders", "OrderLine")
    changed, removed = [], []

    def flush():
        OrderLine.objects.bulk_update(changed, ["quantity", "platform_line_ids"])
        OrderLine.objects.filter(pk__in=removed).delete()
        changed.clear()
        removed.clear()

    rows = OrderLine.objects.order_by("order_id", "external_id").iterator(chunk_size=BATCH)
    for _, lines in groupby(rows, key=lambda line: line.order_id):
        merged = {}
        for line in lines:
            key = tuple(getattr(line, name) for name in CONTENT)
            if key in merged:
                merged[key][1].extend(_unit_ids(line))
                removed.append(line.pk)
            else:
                merged[key] = (line, _unit_ids(line))
        for keep, ids in merged.values():
            keep.platform_line_ids = sorted(ids)
            keep.quantity = len(ids)
            changed.append(keep)
        if len(changed) + len(removed) >= BATCH:
            flush()
    flush()


def backwards(apps, schema_editor):
    OrderLine = apps.get_model("orders", "OrderLine")
    created = []
    for line in OrderLine.objects.filter(quantity__gt=1).iterator(chunk_size=BATCH):
        ids = _unit_ids(line)
        for unit_id in ids[1:]:
            unit = OrderLine(
                **{name: getattr(line, name) for name in CONTENT},
                organization_id=line.organization_id,
                external_id=unit_id,
                quantity=1,
                platform_line_ids=[unit_id],
            )
            created.append(unit)
        OrderLine.objects.filter(pk=line.pk).update(external_id=ids[0], quantity=1, platform_line_ids=[ids[0]])
        if len(created) >= BATCH:
            OrderLine.objects.bulk_create(created)
            created.clear()
    OrderLine.objects.bulk_create(created)


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_orderline_quantity")]

    operations = [migrations.RunPython(forwards, backwards)]
