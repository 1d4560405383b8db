"""`Idempotency-Key` for partner writes: a retry after a timeout replays the first answer instead of repeating the
change (a WMS re-posting a receipt must not receive the units twice).

The key row is inserted in the same transaction as the change, so they commit together or not at all. Two requests
racing with one key: the second waits on the unique index, then its transaction (change included) rolls back and it
is told to retry, which then replays the first answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from erp.models import IdempotencyKey

HEADER = "Idempotency-Key"


class KeyInFlight(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is being processed. Retry in a moment."
    default_code = "idempotency_key_in_flight"


def idempotent(request: Request, produce: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return produce()
    if len(key) > 255:
        raise ValidationError({HEADER: ["At most 255 characters."]})
    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.path.encode(), request.body or b""])
    ).hexdigest()
    stored = IdempotencyKey.objects.filter(key=key).first()
    if stored is not None:
        if stored.fingerprint != fingerprint:
            raise ValidationError({HEADER: ["This key was used for a different request. Use a new key."]})
        response = Response(stored.response_body, status=stored.response_status)
        response["Idempotent-Replayed"] = "true"
        return response
    try:
        with transaction.atomic():
            response = produce()
            if response.status_code < 400:  # a refused request may be corrected and sent again with the same key
                IdempotencyKey.objects.create(
                    key=key,
                    fingerprint=fingerprint,
                    response_status=response.status_code,
                    response_body=response.data,
                )
    except IntegrityError as error:
        if "idempotency_unique_key" in str(error):
            raise KeyInFlight from error
        raise
    return response
