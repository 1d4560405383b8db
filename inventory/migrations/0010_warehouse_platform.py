# A platform's own warehouse (docs/adr/0017): the kind PLATFORM and the platform it belongs to. The kind's choices
# drop "fbt" here; the rows that hold it become PLATFORM in 0011, and 0012 then holds the pair together.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0009_warehouse_country_iso'),
    ]

    operations = [
        migrations.AddField(
            model_name='warehouse',
            name='platform',
            field=models.CharField(blank=True, choices=[('tiktok', 'TikTok Shop'), ('manual', 'Manual')], default='', max_length=16),
        ),
        migrations.AlterField(
            model_name='warehouse',
            name='kind',
            field=models.CharField(choices=[('own', 'Own warehouse'), ('3pl', '3PL'), ('supplier', 'Dropship supplier'), ('platform', 'Fulfilled by the platform')], default='own', max_length=16),
        ),
    ]
