"""Webhook rows recorded before topics were names: the platform's number becomes the name the row's summary kept.

Reverse: names cannot become the platform's numbers again without the platform's table, so they become 0 (the
"unreadable" topic), which is all the integer column can hold for them."""

from django.db import migrations


def numbers_to_names(apps, schema_editor):
    WebhookDelivery = apps.get_model("integrations", "WebhookDelivery")
    for delivery in WebhookDelivery.objects.filter(topic__regex=r"^[0-9]+$").only("pk", "topic", "payload"):
        name = (delivery.payload or {}).get("topic") or ("" if delivery.topic == "0" else f"UNKNOWN_{delivery.topic}")
        WebhookDelivery.objects.filter(pk=delivery.pk).update(topic=name[:64])


def names_to_numbers(apps, schema_editor):
    WebhookDelivery = apps.get_model("integrations", "WebhookDelivery")
    WebhookDelivery.objects.exclude(topic__regex=r"^[0-9]+$").update(topic="0")


class Migration(migrations.Migration):
    dependencies = [("integrations", "0005_webhook_topic_names_and_open_ended_tokens")]

    operations = [migrations.RunPython(numbers_to_names, names_to_numbers)]
