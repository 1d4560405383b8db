"""The API's own refusals, each with its machine-readable code (`error.code` in the one error body,
erp/api/exceptions.py). Apart from the handler so the permission class can raise them without importing DRF's views
(which import the permission class: a cycle)."""

from rest_framework import exceptions


class InsufficientScope(exceptions.PermissionDenied):
    default_detail = "This API key's scopes do not cover this endpoint."
    default_code = "insufficient_scope"


class WarehouseBound(exceptions.PermissionDenied):
    default_detail = (
        "This key (or member) works for one warehouse and may use only the endpoints of a warehouse's work "
        "(handoffs and their orders)."
    )
    default_code = "warehouse_scope_required"


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_detail = "The object changed since you read it (its ETag differs from If-Match). Read it again."
    default_code = "precondition_failed"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = 422
    default_detail = (
        "This Idempotency-Key was used for a different request (another body, method or path). Use a new key."
    )
    default_code = "idempotency_key_reused"


class IdempotencyKeyInFlight(exceptions.APIException):
    status_code = 409
    default_detail = "A request with this Idempotency-Key is still being processed. Retry in a moment."
    default_code = "idempotency_key_in_flight"
