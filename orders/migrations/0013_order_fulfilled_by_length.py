from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0012_order_neutral_values")]

    operations = [
        migrations.AlterField(model_name="order", name="fulfilled_by", field=models.CharField(blank=True, max_length=16)),
    ]
