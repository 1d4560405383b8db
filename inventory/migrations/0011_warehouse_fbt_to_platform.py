"""TikTok's own warehouses (kind "fbt") become platform warehouses of TikTok (kind "platform", platform "tiktok"),
docs/adr/0017. Backwards gives them their old kind and no platform; a platform warehouse of another platform has no
old kind to go back to, so going back refuses while one exists."""

from django.db import migrations

FBT = "fbt"
PLATFORM = "platform"
TIKTOK = "tiktok"


def forwards(apps, schema_editor):
    Warehouse = apps.get_model("inventory", "Warehouse")
    Warehouse.objects.filter(kind=FBT).update(kind=PLATFORM, platform=TIKTOK)


def backwards(apps, schema_editor):
    Warehouse = apps.get_model("inventory", "Warehouse")
    others = Warehouse.objects.filter(kind=PLATFORM).exclude(platform=TIKTOK)
    if others.exists():
        raise RuntimeError(
            f"{others.count()} platform warehouses of platforms other than TikTok have no kind before 0011: "
            "delete them (or give them another kind) to go back."
        )
    Warehouse.objects.filter(kind=PLATFORM, platform=TIKTOK).update(kind=FBT, platform="")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0010_warehouse_platform")]

    operations = [migrations.RunPython(forwards, backwards)]
