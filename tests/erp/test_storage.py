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
