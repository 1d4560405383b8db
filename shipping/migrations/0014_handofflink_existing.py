"""Links handed out before links were recorded: one row per existing handoff, with the handoff's own id, so a link
already with a supplier (its token names the handoff) keeps working until it expires and can now be revoked."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    Handoff = apps.get_model("shipping", "Handoff")
    HandoffLink = apps.get_model("shipping", "HandoffLink")
    # Every such token was signed before now and lives at most this long from its signing.
    expires_at = timezone.now() + timedelta(hours=getattr(settings, "HANDOFF_LINK_MAX_AGE_HOURS", 72))
    HandoffLink.objects.bulk_create(
        [
            HandoffLink(
                id=handoff.id,
                organization_id=handoff.organization_id,
                handoff_id=handoff.id,
                label="",
                created_at=handoff.created_at,
                created_by_label="before links were listed",
                expires_at=expires_at,
            )
            for handoff in Handoff.objects.all().iterator()
        ],
        ignore_conflicts=True,
    )


def backwards(apps, schema_editor):
    HandoffLink = apps.get_model("shipping", "HandoffLink")
    HandoffLink.objects.filter(created_by_label="before links were listed").delete()


class Migration(migrations.Migration):
    dependencies = [("shipping", "0013_handofflink")]

    operations = [migrations.RunPython(forwards, backwards)]
