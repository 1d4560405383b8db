"""Every purchase recorded before packages carried orders covers its own order, all its lines (part "order")."""

from django.db import migrations


def cover_existing(apps, schema_editor):
    LabelPurchase = apps.get_model("shipping", "LabelPurchase")
    PackageOrder = apps.get_model("shipping", "PackageOrder")
    rows = LabelPurchase.objects.filter(covers__isnull=True).values_list(
        "pk", "organization_id", "order_id", "package_key", "line_ids"
    )
    PackageOrder.objects.bulk_create(
        [
            PackageOrder(purchase_id=pk, organization_id=org, order_id=order, part=key, line_ids=lines)
            for pk, org, order, key, lines in rows.iterator()
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


def uncover(apps, schema_editor):
    apps.get_model("shipping", "PackageOrder").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("shipping", "0015_package_orders")]
    operations = [migrations.RunPython(cover_existing, uncover)]
