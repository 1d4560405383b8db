"""Media storage: where label PDFs and slip logos live, whichever backend the settings chose (docs/storage.md).

Code everywhere else reads and writes files through Django's storage API only (`FieldFile.open`/`save`,
`default_storage`), never a filesystem path, so the same code runs on a local folder, a shared volume or a bucket.
This module holds the little that is backend-specific: making sure a development bucket exists, and the command
`make run` uses to start a local S3-compatible server.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.files.storage import storages

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class StorageUnavailable(Exception):
    """Media storage could not be reached, or refused us: not "this file does not exist" (FileNotFoundError), which
    callers handle themselves. Pages answer 503 saying so (erp.middleware.DependencyOutageMiddleware)."""


def storage_errors() -> tuple[type[BaseException], ...]:
    """What a storage backend raises when it is down: OSError for a volume, botocore's errors for a bucket."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # django-storages' S3 backend not installed: only the volume's errors can happen
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)


def storage_is_s3() -> bool:
    return settings.STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage"


def storage_local_s3_endpoint() -> tuple[str, int] | None:
    """(host, port) of the S3 endpoint when the settings say s3 at an address on this machine (`make run` then
    starts the server itself); None otherwise."""
    if not storage_is_s3():
        return None
    endpoint = settings.STORAGES["default"]["OPTIONS"].get("endpoint_url")
    parsed = urlparse(endpoint or "")
    if parsed.hostname not in LOCAL_HOSTS or parsed.port is None:
        return None
    return parsed.hostname, parsed.port


def storage_probe() -> str:
    """What `/readyz` says of media storage: the backend in use; raises when files could not be stored or read."""
    storage = storages["default"]
    if storage_is_s3():
        # A HEAD on a missing key answers "no" even when the bucket is gone or the keys are wrong; the bucket does not.
        storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
    else:
        storage.exists("readyz-probe")
        # The folder is made on the first save: until then its nearest existing parent must be writable.
        folder = Path(storage.location)
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not os.access(folder, os.W_OK):
            raise PermissionError(f"{storage.location} is not writable by this process")
    return type(storage).__name__


def s3_server_command(*, host: str, port: int) -> list[str]:
    """moto's S3-compatible server (the dev extra): development only, it keeps objects in memory."""
    return [sys.executable, "-m", "moto.server", "--host", host, "--port", str(port)]


def storage_bucket_ensure() -> bool:
    """Create the configured bucket if it is missing, private, with versioning on (an overwritten or deleted label can
    be brought back). For development and tests: production buckets are created by the operator (docs/storage.md).
    True when it was created."""
    import boto3
    from botocore.exceptions import ClientError

    options = settings.STORAGES["default"]["OPTIONS"]
    client = boto3.client(
        "s3",
        endpoint_url=options.get("endpoint_url"),
        region_name=options.get("region_name") or "us-east-1",
        aws_access_key_id=options.get("access_key"),
        aws_secret_access_key=options.get("secret_key"),
    )
    bucket = options["bucket_name"]
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        client.create_bucket(Bucket=bucket)
        client.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        return True
    return False


def storage_delete_everywhere(name: str) -> None:
    """Delete a stored file for good: on a versioned bucket every version and delete marker of its key too (a plain
    delete only hides it behind a marker), so an organization's deletion leaves nothing to restore. A file already
    gone is no error: deletion may be run again after a failure."""
    storage = storages["default"]
    if not storage_is_s3():
        storage.delete(name)
        return
    from storages.utils import clean_name

    client = storage.connection.meta.client
    key = storage._normalize_name(clean_name(name))  # the object key, with AWS_LOCATION's prefix
    paginator = client.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=storage.bucket_name, Prefix=key):
        versions = [
            {"Key": entry["Key"], "VersionId": entry["VersionId"]}
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", [])
            if entry["Key"] == key  # the prefix also matches longer keys: labels/a.pdf and labels/a.pdf.bak
        ]
        if versions:
            client.delete_objects(Bucket=storage.bucket_name, Delete={"Objects": versions, "Quiet": True})
    storage.delete(name)  # an unversioned bucket lists no versions
