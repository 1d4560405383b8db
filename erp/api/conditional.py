"""Cheap polling and safe updates with ETags (docs/adr/0021-partner-api-semantics.md).

Every GET that answers 200 with a body carries a weak ETag, a hash of the representation it sends (after `fields`):
equal bodies, equal tags, whatever produced them. `If-None-Match` with that tag answers 304 with no body, so a
partner polling a list or an object pays for neither the transfer nor the parsing when nothing changed.
A PATCH or PUT with `If-Match` is refused with 412 when the object's current representation no longer has that tag:
someone changed it since the caller read it. (RFC 9110 asks strong tags for If-Match; ours are weak because two
serialisations of one state may differ in bytes, so the comparison is of the opaque tag, documented in docs/api.md.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from erp.api.errors import PreconditionFailed


def etag_of(data: Any) -> str:
    canonical = json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"))
    return f'W/"{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"'


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def _listed(header: str) -> set[str]:
    return {_opaque(tag) for tag in header.split(",") if tag.strip()}


def not_modified_or(response: Response, request: Request) -> Response:
    """The response with its ETag, or a 304 when the caller already holds this representation."""
    tag = etag_of(response.data)
    held = request.headers.get("If-None-Match")
    if held and (_opaque(tag) in _listed(held) or held.strip() == "*"):
        not_modified = Response(status=status.HTTP_304_NOT_MODIFIED)
        not_modified["ETag"] = tag
        return not_modified
    response["ETag"] = tag
    return response


def check_if_match(request: Request, *, current: Callable[[], Any]) -> None:
    """Raise 412 unless the object's current representation has one of the tags of `If-Match` (or it is `*`)."""
    wanted = request.headers.get("If-Match", "").strip()
    if not wanted or wanted == "*":
        return
    if _opaque(etag_of(current())) not in _listed(wanted):
        raise PreconditionFailed()
