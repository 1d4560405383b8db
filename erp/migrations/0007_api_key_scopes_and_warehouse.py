# API keys get scopes per resource family and an optional warehouse; idempotency keys get their owner
# (docs/adr/0021-partner-api-semantics.md). The old single `scope` is converted by 0008 and dropped by 0009.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('erp', '0006_organization_unit_system'),
        ('inventory', '0014_warehouse_platform_choices'),
    ]

    operations = [
        migrations.AddField(
            model_name='apikey',
            name='scopes',
            field=models.JSONField(default=list),
        ),
        migrations.AddField(
            model_name='apikey',
            name='warehouse',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='api_keys', to='inventory.warehouse'),
        ),
        migrations.RemoveConstraint(
            model_name='idempotencykey',
            name='idempotency_unique_key',
        ),
        # Keys stored before owners existed get none: they match no request and expire within 24 hours.
        migrations.AddField(
            model_name='idempotencykey',
            name='owner',
            field=models.CharField(default='', max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='idempotencykey',
            name='response_status',
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.AlterField(
            model_name='idempotencykey',
            name='response_body',
            field=models.JSONField(null=True),
        ),
        migrations.AddConstraint(
            model_name='idempotencykey',
            constraint=models.UniqueConstraint(fields=('organization', 'owner', 'key'), name='idempotency_unique_owner_key'),
        ),
    ]
