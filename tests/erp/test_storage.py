"""Media on object storage (DROPLINE_STORAGE=s3), against a real S3-compatible server: files are private, never
overwritten, served only through Django; `/readyz` tells the truth about the bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.s3
def test_files_are_private_never_overwritten_and_never_on_the_local_disk(s3_storage: str) -> None:
    first = default_storage.save("labels/2026/12/576400001-1152001.pdf", ContentFile(b"%PDF-1.4 first"))
    second = default_storage.save("labels/2026/12/576400001-1152001.pdf", ContentFile(b"%PDF-1.4 second"))

    assert first != second  # a second save gets its own key: the paid-for label stays as it was
    with default_storage.open(first, "rb") as handle:
        assert handle.read() == b"%PDF-1.4 first"
    storage = storages["default"]
    client = storage.connection.meta.client
    grants = client.get_object_acl(Bucket=s3_storage, Key=first)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # the owner, and nobody else
    assert all("URI" not in grant["Grantee"] for grant in grants)  # no AllUsers / AuthenticatedUsers
    # Were a URL ever handed out, it is signed and short-lived.
    query = parse_qs(urlparse(default_storage.url(first)).query)
    assert "X-Amz-Signature" in query
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert not Path(django_settings.MEDIA_ROOT).exists()


@pytest.mark.s3
def test_the_bucket_is_versioned_and_blocks_public_access(s3_storage: str) -> None:
    client = storages["default"].connection.meta.client
    assert client.get_bucket_versioning(Bucket=s3_storage)["Status"] == "Enabled"
    block = client.get_public_access_block(Bucket=s3_storage)["PublicAccessBlockConfiguration"]
    assert all(block.values())


@pytest.mark.s3
def test_readyz_reports_object_storage_and_a_missing_bucket(s3_storage: str, settings: Any) -> None:
    ready = Client().get("/readyz").json()
    assert ready["checks"]["storage"] | {"ms": 0} == {"ok": True, "required": True, "detail": "S3Storage", "ms": 0}

    options = {**settings.STORAGES["default"]["OPTIONS"], "bucket_name": "no-such-bucket"}
    settings.STORAGES = {**settings.STORAGES, "default": {**settings.STORAGES["default"], "OPTIONS": options}}
    response = Client().get("/readyz")
    assert response.status_code == 503
    storage = response.json()["checks"]["storage"]
    assert storage["ok"] is False
    assert "404" in storage["detail"] or "NoSuchBucket" in storage["detail"]


def test_readyz_reports_the_local_folder_by_its_backend(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media-not-made-yet"  # made on the first save: ready already
    ready = Client().get("/readyz").json()
    assert ready["checks"]["storage"]["ok"] is True
    assert ready["checks"]["storage"]["detail"] == "FileSystemStorage"


S3_ENV = {
    "DROPLINE_STORAGE": "s3",
    "AWS_STORAGE_BUCKET_NAME": "dropline-media",
    "AWS_S3_ENDPOINT_URL": "http://minio:9000",
    "AWS_ACCESS_KEY_ID": "dropline",
    "AWS_SECRET_ACCESS_KEY": "not-a-real-secret",
}


def test_production_on_object_storage_is_private_never_overwrites_and_passes_check_deploy() -> None:
    from tests.erp.test_settings import PRODUCTION_ENV, manage

    env = PRODUCTION_ENV | S3_ENV
    assert manage("check", "--deploy", env=env).returncode == 0
    probe = (
        "from django.core.files.storage import storages; s = storages['default']; "
        "c = s.connection.meta.client.meta.config; "
        "print(type(s).__name__, s.bucket_name, s.endpoint_url, c.s3['addressing_style'], c.signature_version, "
        "c.connect_timeout, s.default_acl, s.file_overwrite, s.querystring_auth, s.querystring_expire)"
    )
    result = manage("shell", "-c", probe, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "S3Storage", "dropline-media", "http://minio:9000", "path", "s3v4", "3", "None", "False", "True", "300"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"AWS_STORAGE_BUCKET_NAME": ""}, "AWS_STORAGE_BUCKET_NAME"),
        ({"DROPLINE_STORAGE": "ftp"}, "DROPLINE_STORAGE='ftp': use 'local' or 's3'"),
    ],
)
def test_a_storage_setting_that_cannot_work_refuses_to_start(change: dict[str, str], message: str) -> None:
    from tests.erp.test_settings import PRODUCTION_ENV, manage

    env = {k: v for k, v in (PRODUCTION_ENV | S3_ENV | change).items() if v}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.s3
@pytest.mark.chaos
def test_unreachable_storage_answers_503_saying_so_and_fetches_nothing_again(
    tenant: Any, s3_storage: str, settings: Any
) -> None:
    from shipping.models import LabelBatch, LabelPurchase
    from tests.factories import LabelBatchFactory, WarehouseFactory
    from tests.shipping.test_batch_documents import bought

    batch: LabelBatch = LabelBatchFactory(organization=tenant.organization)
    purchase = bought(tenant, batch, WarehouseFactory(organization=tenant.organization), tracking="TRK-1", sku="MUG")
    default = settings.STORAGES["default"]
    options = {**default["OPTIONS"], "endpoint_url": "http://127.0.0.1:1"}  # nothing listens: connection refused
    settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": options}}

    page = tenant.client.get(f"/shipping/batches/{batch.pk}/labels.pdf")
    assert page.status_code == 503
    assert page["Retry-After"]
    assert "file storage is unreachable" in page.content.decode()

    api = Client().get(
        f"/api/v1/label-batches/{batch.pk}/documents/labels/", HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}"
    )
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "storage_unavailable"
    # An outage is not a missing file: the row still names its stored label, nothing was asked of the platform.
    assert LabelPurchase.unscoped.get(pk=purchase.pk).label_pdf.name == purchase.label_pdf.name
