from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("orders", "0010_orderline_merge_units")]

    operations = [
        migrations.RenameField(model_name="order", old_name="shipping_type", new_name="label_source"),
        migrations.RenameField(model_name="order", old_name="fulfillment_type", new_name="fulfilled_by"),
    ]
