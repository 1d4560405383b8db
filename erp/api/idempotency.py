"""`Idempotency-Key` on every POST, with Stripe's semantics (docs/adr/0021-partner-api-semantics.md). The API's base
view applies it; views never call it.

* Same key, same request (owner, method, path, body) → the first answer replayed (status and body, with
  `Idempotent-Replayed: true`) for `TTL`; nothing is done again.
* Same key, another request → 422 `idempotency_key_reused`.
* Two requests racing with one key → one runs; the other waits up to `WAIT_SECONDS` for it, then replays its
  answer (or runs, if the first was refused), or gets 409 `idempotency_key_in_flight` if it is still running.

How: the key row is inserted *before* the view runs, in one transaction with the view's change. A second request
inserting the same key waits on the unique index until the first transaction ends, so the key and the change
commit together or not at all, and a worker that dies mid-request leaves nothing behind to block a retry.
A refused request (4xx) rolls back with its change and leaves no key, so a corrected retry with the same key runs.
A server error (5xx) rolls back too: nothing was changed, so a retry runs again instead of replaying a failure.
Keys are per owner (the API key, or the member) in the organization; expired ones are deleted by beat every hour
(erp.tasks.idempotency_keys_expire) and, for the key being reused, at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import OperationalError, connection, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from erp.api.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from erp.ids import uuid7
from erp.models import APIKey, IdempotencyKey
from erp.tasks import BROKER_ERRORS
from erp.tenancy import organization_in_scope

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL = timedelta(hours=24)
WAIT_SECONDS = 5  # how long a racing request waits for the first before 409
MAX_KEY_LENGTH = 255


def owner_of(request: Request) -> str:
    if isinstance(request.auth, APIKey):
        return f"key:{request.auth.pk}"
    return f"user:{request.user.pk}"


def fingerprint_of(request: Request) -> str:
    body = request.body or b""
    with contextlib.suppress(ValueError):  # the same JSON with other spacing or key order is the same request
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), body])).hexdigest()


def run(request: Request, *, produce: Callable[[], Any], handle_exception: Callable[[Exception], Any]) -> Any:
    key = request.headers.get(HEADER, "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError({HEADER: [f"At most {MAX_KEY_LENGTH} characters."]})
    owner, fingerprint = owner_of(request), fingerprint_of(request)
    try:
        with transaction.atomic():
            stored = _claim(owner=owner, key=key, fingerprint=fingerprint)
            if stored is not None:
                return _replay(stored, fingerprint)
            try:
                response = produce()
            except Exception as error:  # the view's refusal: answered here so that it rolls back below
                response = handle_exception(error)
            if response.status_code >= 400:
                # Refused or failed: the change (if any) and the key go; a corrected retry with this key runs.
                transaction.set_rollback(True)
                return response
            if not isinstance(response, Response):  # a file, not JSON: kept as done, but there is nothing to replay
                IdempotencyKey.objects.filter(owner=owner, key=key).delete()
                return response
            body = json.loads(JSONRenderer().render(response.data) or b"null")
            IdempotencyKey.objects.filter(owner=owner, key=key).update(
                response_status=response.status_code, response_body=body
            )
            return response
    except BROKER_ERRORS as error:
        # Work handed to the broker after the commit could not be sent: the change and its key are saved, and a
        # retry with the key replays the answer (docs/adr/0011: nothing is left half done for the caller).
        return handle_exception(error)


def _claim(*, owner: str, key: str, fingerprint: str) -> IdempotencyKey | None:
    """Insert the key (waiting for a racing request that holds it), or return the stored one."""
    IdempotencyKey.objects.filter(owner=owner, key=key, created_at__lt=timezone.now() - TTL).delete()
    mine = uuid7()
    try:
        with transaction.atomic():  # a savepoint: a lock timeout must not poison the request's transaction
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{int(WAIT_SECONDS * 1000)}ms'")
            # ON CONFLICT DO NOTHING: a committed key is read below; an uncommitted one makes this wait for it.
            IdempotencyKey.objects.bulk_create(
                [
                    IdempotencyKey(
                        pk=mine, organization=organization_in_scope(), owner=owner, key=key, fingerprint=fingerprint
                    )
                ],
                ignore_conflicts=True,
            )
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = DEFAULT")  # the view's own work waits as it always did
    except OperationalError as error:  # the lock timeout: the first request is still running
        raise IdempotencyKeyInFlight() from error
    stored = IdempotencyKey.objects.get(owner=owner, key=key)
    return None if stored.pk == mine else stored


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if stored.response_status is None:  # cannot happen once committed; kept so a bug is a 409, not a 500
        raise IdempotencyKeyInFlight()
    response = Response(stored.response_body, status=stored.response_status)
    response[REPLAYED_HEADER] = "true"
    return response
