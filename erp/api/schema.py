"""The OpenAPI schema's error responses: one postprocessing hook documents the API's one error body
(erp/api/exceptions.py) for every status code the shell can answer, on every operation, so that no view has to
repeat them and a client (or schemathesis, docs/adr/0015-api-fuzzing.md) finds every answer it can receive."""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "Error"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The one error body of every API error.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "example": "validation_error"},
                "code": {"type": "string", "example": "invalid"},
                "message": {"type": "string", "example": "Some fields are invalid; see `fields`."},
                "fields": {
                    "type": "object",
                    "description": "Per field (or `non_field_errors`), what is wrong with it; empty when no field is.",
                    "additionalProperties": {},
                },
            },
            "required": ["type", "code", "message", "fields"],
        }
    },
    "required": ["error"],
}

_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}

# status → (description, headers). What the shell itself can answer for any operation: the exception handler's
# types (erp.api.exceptions._TYPES), the idempotency key's 409 and the outage 503.
STANDARD_ERRORS: dict[str, tuple[str, dict[str, Any]]] = {
    "400": ("Invalid input: `fields` says what, per field.", {}),
    "401": (
        "No or an invalid API key.",
        {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Api-Key`."}},
    ),
    "403": ("The key's scope or the member's role does not allow this.", {}),
    "404": ("No such object in your organization (or no such endpoint).", {}),
    "405": ("This endpoint does not support the method.", {}),
    "406": ("The `Accept` header asks for a format this endpoint does not produce.", {}),
    "409": ("A request with the same `Idempotency-Key` is still being processed; retry in a moment.", {}),
    "415": ("The body's `Content-Type` is not accepted (send `application/json`).", {}),
    "429": ("Too many requests for this key; retry after `Retry-After` seconds.", _RETRY_AFTER),
    "503": ("A dependency (Redis) is unreachable; nothing was changed. Retry after `Retry-After`.", _RETRY_AFTER),
}
_BODY_ONLY = {"415"}  # only an operation that takes a body can be sent one of the wrong type

_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry: add the standard error responses to every operation, and give
    an error response a view declared without a body (`400: None`) the error body it really has."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, (description, headers) in STANDARD_ERRORS.items():
                if status in _BODY_ONLY and "requestBody" not in operation:
                    continue
                response = responses.setdefault(status, {"description": description})
                if not response.get("description"):
                    response["description"] = description
                response.setdefault("content", content)
                if headers:
                    response.setdefault("headers", headers)
    return result
