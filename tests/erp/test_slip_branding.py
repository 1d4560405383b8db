"""The seller's packing-slip branding: a logo and a message set under Settings, printed on every packing slip."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfReader

from erp.models import AuditEntry, Organization
from erp.tenancy import organization_scope
from shipping.documents.packing_slips import SlipBranding, packing_slips_pdf
from tests.shipping.batches import batch

pytestmark = pytest.mark.django_db


def png(width: int = 240, height: int = 80) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 90, 160)).save(out, "PNG")
    return out.getvalue()


def save(tenant: Any, **extra: Any) -> Any:
    data = {"name": tenant.organization.name, "time_zone": "America/Chicago", "slip_message": "Thanks from Glow!"}
    return tenant.client.post("/settings/", data | extra, follow=True)


def test_the_logo_and_message_are_saved_audited_and_printed_on_every_slip(tenant: Any) -> None:
    logo = png()
    response = save(tenant, slip_logo=SimpleUploadedFile("glow.png", logo, content_type="image/png"))
    assert "Organization settings saved." in response.content.decode()
    organization = Organization.objects.get(pk=tenant.organization.pk)
    branding = SlipBranding.of(organization)
    assert branding.logo_png == logo
    assert branding.message == "Thanks from Glow!"
    assert tenant.client.get("/settings/slip-logo/").content == logo
    page = tenant.client.get("/settings/").content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert "Logo on packing slips" in page
    assert 'alt="Your packing-slip logo"' in page

    slips = PdfReader(io.BytesIO(packing_slips_pdf(batch(3), branding)))
    assert "Thanks from Glow!" in slips.pages[0].extract_text()
    assert slips.pages[0].images  # the logo is on the slip

    with organization_scope(tenant.organization):
        changes = AuditEntry.objects.filter(action="organization.updated").latest("created_at").changes
    assert set(changes) >= {"slip_logo", "slip_message", "time_zone"}


def test_a_file_that_is_not_an_image_is_refused_and_the_logo_can_be_removed(tenant: Any) -> None:
    refused = save(tenant, slip_logo=SimpleUploadedFile("logo.pdf", b"%PDF-1.4 not an image", content_type="image/png"))
    assert "The logo must be a PNG or JPEG image." in refused.content.decode()
    assert not Organization.objects.get(pk=tenant.organization.pk).slip_logo

    save(tenant, slip_logo=SimpleUploadedFile("glow.png", png(), content_type="image/png"))
    save(tenant, remove_slip_logo="on")
    organization = Organization.objects.get(pk=tenant.organization.pk)
    assert not organization.slip_logo
    assert SlipBranding.of(organization).logo_png is None
    assert tenant.client.get("/settings/slip-logo/").status_code == 404


def test_a_lost_logo_file_costs_the_slips_their_logo_never_the_print(tenant: Any, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    save(tenant, slip_logo=SimpleUploadedFile("glow.png", png(), content_type="image/png"))
    organization = Organization.objects.get(pk=tenant.organization.pk)
    default_storage.delete(organization.slip_logo.name)

    branding = SlipBranding.of(organization)

    assert branding.logo_png is None
    assert branding.message == "Thanks from Glow!"
    slips = PdfReader(io.BytesIO(packing_slips_pdf(batch(2), branding)))
    assert len(slips.pages) == 2
    assert "Thanks from Glow!" in slips.pages[0].extract_text()
    assert tenant.client.get("/settings/slip-logo/").status_code == 404
    assert tenant.client.get("/settings/").status_code == 200


def test_renaming_the_organization_is_saved_and_audited(tenant: Any) -> None:
    tenant.client.post("/settings/", {"name": "Glow Candles Co.", "time_zone": "Europe/London", "slip_message": ""})
    organization = Organization.objects.get(pk=tenant.organization.pk)
    assert (organization.name, organization.time_zone, organization.slip_message) == (
        "Glow Candles Co.",
        "Europe/London",
        "",
    )
    with organization_scope(organization):
        entry = AuditEntry.objects.get(action="organization.updated")
    assert entry.changes["name"][1] == "Glow Candles Co."


def test_the_unit_system_is_chosen_in_settings_us_imperial_by_default(tenant: Any) -> None:
    assert Organization.objects.get(pk=tenant.organization.pk).unit_system == "imperial"
    page = tenant.client.get("/settings/").content.decode()
    assert "US customary: lb, oz and inches" in page
    assert "Metric: kg, g and centimetres" in page

    save(tenant, unit_system="metric")

    assert Organization.objects.get(pk=tenant.organization.pk).unit_system == "metric"
    with organization_scope(tenant.organization):
        changes = AuditEntry.objects.filter(action="organization.updated").latest("created_at").changes
    assert changes["unit_system"] == ["imperial", "metric"]
    save(tenant)  # a post without it leaves it as it is
    assert Organization.objects.get(pk=tenant.organization.pk).unit_system == "metric"
