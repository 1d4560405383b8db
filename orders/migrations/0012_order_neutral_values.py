"""Stored TikTok words become the neutral values of integrations.interface (LabelSource, FulfilledBy), as the TikTok
adapter now maps them: FULFILLMENT_BY_TIKTOK is fulfilled by the platform and every other fulfilment type by the
seller; shipping type TIKTOK is a platform label, SELLER the seller's own, anything else unknown (blank).

Backwards gives TikTok's words back (the seller's fulfilment as FULFILLMENT_BY_SELLER, which is what TikTok and
manual orders stored)."""

from django.db import migrations

LABEL_SOURCES = {"TIKTOK": "platform", "SELLER": "seller"}
FBT = "FULFILLMENT_BY_TIKTOK"


def forwards(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    for old, new in LABEL_SOURCES.items():
        Order.objects.filter(label_source=old).update(label_source=new)
    Order.objects.exclude(label_source__in=["", *LABEL_SOURCES.values()]).update(label_source="")
    Order.objects.filter(fulfilled_by=FBT).update(fulfilled_by="platform")
    Order.objects.exclude(fulfilled_by__in=["", "platform"]).update(fulfilled_by="seller")


def backwards(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    for old, new in LABEL_SOURCES.items():
        Order.objects.filter(label_source=new).update(label_source=old)
    Order.objects.filter(fulfilled_by="platform").update(fulfilled_by=FBT)
    Order.objects.filter(fulfilled_by="seller").update(fulfilled_by="FULFILLMENT_BY_SELLER")


class Migration(migrations.Migration):
    dependencies = [("orders", "0011_order_neutral_vocabulary")]

    operations = [migrations.RunPython(forwards, backwards)]
