# After 0011 every platform warehouse names its platform: the database holds that from now on.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0011_warehouse_fbt_to_platform'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='warehouse',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'platform'), models.Q(('platform', ''), _negated=True)), models.Q(models.Q(('kind', 'platform'), _negated=True), ('platform', '')), _connector='OR'), name='warehouse_platform_iff_platform_kind', violation_error_message="A platform's own warehouse names its platform; no other warehouse does."),
        ),
    ]
