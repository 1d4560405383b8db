from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [('erp', '0008_api_key_scopes_from_scope')]

    operations = [
        migrations.RemoveField(
            model_name='apikey',
            name='scope',
        ),
    ]
