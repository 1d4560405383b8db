"""docker-compose.yml's production shape shares files: every app container (web, each worker pool, beat, migrate)
mounts the same named `media` volume at its MEDIA_ROOT, so a label a worker stores is there for the web to print.
Object storage (MinIO) is optional, behind the `s3` profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

COMPOSE = Path(settings.BASE_DIR) / "docker-compose.yml"


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def app_services(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in spec["services"].items() if service.get("image") == "dropline:latest"}


def test_web_and_every_worker_mount_the_shared_media_volume_at_media_root() -> None:
    spec = compose()
    apps = app_services(spec)
    assert {"web", "beat", "worker-labels", "worker-documents", "worker-sync", "worker-default"} <= set(apps)
    assert "media" in spec["volumes"]
    for name, service in apps.items():
        media_root = service["environment"]["MEDIA_ROOT"]
        assert f"media:{media_root}" in service.get("volumes", []), f"{name} does not share media at {media_root}"


def test_object_storage_is_optional_and_its_bucket_private_and_versioned() -> None:
    services = compose()["services"]
    assert services["minio"]["profiles"] == ["s3"]
    assert services["minio-bucket"]["profiles"] == ["s3"]
    setup = services["minio-bucket"]["entrypoint"]
    assert "mc version enable" in setup
    assert "mc anonymous set none" in setup
    assert all("minio" not in service.get("depends_on", {}) for service in app_services(compose()).values())


def test_the_image_creates_media_root_writable_by_the_app_user() -> None:
    dockerfile = (Path(settings.BASE_DIR) / "Dockerfile").read_text()
    media_root = compose()["services"]["web"]["environment"]["MEDIA_ROOT"]
    assert f"mkdir -p {media_root}" in dockerfile
    assert dockerfile.index(f"mkdir -p {media_root}") < dockerfile.index("USER dropline")
