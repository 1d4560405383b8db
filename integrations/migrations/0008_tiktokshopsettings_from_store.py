"""Every TikTok store gets its TikTokShopSettings, carrying the cipher and the logistics-policy dates its Store row
held (a row even when all are blank, so every TikTok store has one). Other platforms' stores get none.

Reverse: the values go back onto the Store row (its columns are there again once 0009 is reversed) and the rows are
deleted, leaving the table as 0007 made it (empty), so migrating forward again copies afresh."""

from django.db import migrations

FIELDS = ("cipher", "joined_platform_on", "logistics_transition_from", "official_logistics_from")


def store_to_settings(apps, schema_editor):
    Store = apps.get_model("integrations", "Store")
    TikTokShopSettings = apps.get_model("integrations", "TikTokShopSettings")
    rows = [
        TikTokShopSettings(store_id=store["pk"], organization_id=store["organization_id"], **{f: store[f] for f in FIELDS})
        for store in Store.objects.filter(platform="tiktok").values("pk", "organization_id", *FIELDS).iterator()
    ]
    TikTokShopSettings.objects.bulk_create(rows, batch_size=1000)


def settings_to_store(apps, schema_editor):
    Store = apps.get_model("integrations", "Store")
    TikTokShopSettings = apps.get_model("integrations", "TikTokShopSettings")
    for settings in TikTokShopSettings.objects.values("store_id", *FIELDS).iterator():
        Store.objects.filter(pk=settings.pop("store_id")).update(**settings)
    TikTokShopSettings.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("integrations", "0007_tiktokshopsettings")]

    operations = [migrations.RunPython(store_to_settings, settings_to_store)]
