"""The OpenAPI schema's error responses: one postprocessing hook documents the API's one error body
(erp/api/exceptions.py) for every status code the shell can answer, on every operation, so that no view has to
repeat them and a client (or schemathesis, docs/adr/0015-api-fuzzing.md) finds every answer it can receive."""

from __future__ import annotations

from typing import Any

from erp.api import examples

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

_INTEGER = {"schema": {"type": "integer"}}
_RETRY_AFTER = {"Retry-After": {**_INTEGER, "description": "Seconds to wait before retrying."}}
# The IETF draft's rate-limit headers (erp/api/throttling.py), on every answer after authentication.
RATE_LIMIT_HEADERS: dict[str, Any] = {
    "RateLimit-Limit": {**_INTEGER, "description": "Requests allowed per window for this key."},
    "RateLimit-Remaining": {**_INTEGER, "description": "Requests left in the current window."},
    "RateLimit-Reset": {**_INTEGER, "description": "Seconds until a request is freed."},
    "RateLimit-Policy": {"schema": {"type": "string"}, "description": "`<limit>;w=<window seconds>`."},
}
_ETAG = {"ETag": {"schema": {"type": "string"}, "description": "Weak tag of this representation, for If-None-Match."}}
_REPLAYED = {
    "Idempotent-Replayed": {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "This is the stored answer to an earlier request with the same Idempotency-Key.",
    }
}

# status → (description, headers, [(type, code, message)]): what the shell itself can answer for any operation,
# with the machine-readable codes it uses (erp/api/exceptions.py, erp/api/errors.py).
STANDARD_ERRORS: dict[str, tuple[str, dict[str, Any], list[tuple[str, str, str]]]] = {
    "400": (
        "Invalid input: `fields` says what, per field.",
        {},
        [
            ("validation_error", "invalid", "Some fields are invalid; see `fields`."),
            ("invalid_request", "parse_error", "JSON parse error."),
            ("invalid_request", "bad_request", "The request could not be read."),
        ],
    ),
    "401": (
        "No or an invalid API key.",
        {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Api-Key`."}},
        [
            ("not_authenticated", "not_authenticated", "Authentication credentials were not provided."),
            ("authentication_failed", "authentication_failed", "Invalid or revoked API key."),
        ],
    ),
    "403": (
        "The key's scopes, its warehouse binding or the member's role do not allow this.",
        {},
        [
            ("permission_denied", "insufficient_scope", "This API key lacks the `orders:write` scope."),
            ("permission_denied", "warehouse_scope_required", "This key works for one warehouse."),
            ("permission_denied", "permission_denied", "Your role does not allow this."),
        ],
    ),
    "404": (
        "No such object in your organization (or no such endpoint).",
        {},
        [("not_found", "not_found", "Not found.")],
    ),
    "405": (
        "This endpoint does not support the method.",
        {},
        [("method_not_allowed", "method_not_allowed", 'Method "DELETE" not allowed.')],
    ),
    "406": (
        "The `Accept` header asks for a format this endpoint does not produce.",
        {},
        [("not_acceptable", "not_acceptable", "Could not satisfy the request Accept header.")],
    ),
    "409": (
        "A request with the same `Idempotency-Key` is still being processed (retry in a moment), or the endpoint "
        "reports a conflict of its own (see its description).",
        {},
        [("idempotency_error", "idempotency_key_in_flight", "A request with this Idempotency-Key is still running.")],
    ),
    "412": (
        "`If-Match` names an older version: the object changed since you read it.",
        {},
        [("precondition_failed", "precondition_failed", "The object changed since you read it.")],
    ),
    "415": (
        "The body's `Content-Type` is not accepted (send `application/json`).",
        {},
        [("unsupported_media_type", "unsupported_media_type", 'Unsupported media type "text/plain" in request.')],
    ),
    "422": (
        "The `Idempotency-Key` was used for a different request (another body, method or path).",
        {},
        [("idempotency_error", "idempotency_key_reused", "This Idempotency-Key was used for a different request.")],
    ),
    "429": (
        "Too many requests for this key; retry after `Retry-After` seconds.",
        {**_RETRY_AFTER, **RATE_LIMIT_HEADERS},
        [("rate_limited", "throttled", "Request was throttled. Expected available in 12 seconds.")],
    ),
    "503": (
        "A dependency (Redis, or the platform) is unreachable; nothing was changed. Retry after `Retry-After`.",
        _RETRY_AFTER,
        [("service_unavailable", "service_unavailable", "Dropline's queue service is unreachable.")],
    ),
}
# Statuses only some methods can get: a body of the wrong type, a stale If-Match, a reused Idempotency-Key.
_ONLY_FOR = {"415": {"body"}, "412": {"patch", "put"}, "422": {"post"}}

_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

# Request headers and query parameters every operation of a kind takes (erp/api/views.py).
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (a UUID) of at most 255 characters. Retrying with the same key and body "
    "replays the first answer for 24 hours instead of doing it again; the same key with another body is a 422.",
    "schema": {"type": "string"},
}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The `ETag` of your copy: 304 with no body if it is still current.",
    "schema": {"type": "string"},
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The `ETag` from your GET of this object: 412 if it changed since.",
    "schema": {"type": "string"},
}
_FIELDS = {
    "name": "fields",
    "in": "query",
    "required": False,
    "description": "Comma-separated top-level fields to return for each object (e.g. `id,status,updated_at`); an "
    "unknown one is a 400 that lists the fields there are.",
    "schema": {"type": "string"},
}


def _error_content(examples: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "application/json": {
            "schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"},
            "examples": {
                code: {
                    "summary": f"`{code}`",
                    "value": {"error": {"type": t, "code": code, "message": m, "fields": {}}},
                }
                for t, code, m in examples
            },
        }
    }


def _applies(status: str, method: str, operation: dict[str, Any]) -> bool:
    only = _ONLY_FOR.get(status)
    if only is None:
        return True
    return method in only or ("body" in only and "requestBody" in operation)


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry: add to every operation the standard error responses with their
    codes, the rate-limit headers, the shared headers and parameters (Idempotency-Key, ETags, `fields`) and an
    example of each success answer; and give an error response a view declared without a body (`400: None`) the
    error body it really has."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_COMPONENT] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            _shared_parameters(method, operation)
            examples.apply(operation)
            responses = operation.setdefault("responses", {})
            for status, (description, headers, codes) in STANDARD_ERRORS.items():
                if not _applies(status, method, operation):
                    continue
                response = responses.setdefault(status, {"description": description})
                if not response.get("description"):
                    response["description"] = description
                response.setdefault("content", _error_content(codes))
                if headers:
                    response.setdefault("headers", {}).update(headers)
            for status, response in responses.items():
                if status.startswith("2"):
                    extra = {**RATE_LIMIT_HEADERS, **(_ETAG if method == "get" else {})}
                    extra |= _REPLAYED if method == "post" else {}
                    response.setdefault("headers", {}).update(extra)
                    _example(response, schemas)
            if method == "get":
                responses.setdefault("304", {"description": "Not modified: your copy (If-None-Match) is current."})
                responses["304"].setdefault("headers", {}).update(_ETAG)
    return result


def _shared_parameters(method: str, operation: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    have = {(p.get("in"), p.get("name")) for p in parameters}
    wanted = {"get": [_IF_NONE_MATCH, _FIELDS], "post": [_IDEMPOTENCY_KEY], "patch": [_IF_MATCH], "put": [_IF_MATCH]}
    for parameter in wanted.get(method, []):
        if (parameter["in"], parameter["name"]) not in have:
            parameters.append(parameter)


# --------------------------------------------------------------------------------------------------- examples
def _example(response: dict[str, Any], schemas: dict[str, Any]) -> None:
    """An example answer for a JSON success response that has none (made from its schema: each property's own
    example, else a value of its type and format). Views give hand-written examples where the shape alone
    says too little (extend_schema(examples=...)); those are kept."""
    for media_type, content in response.get("content", {}).items():
        if media_type != "application/json" or "example" in content or "examples" in content:
            continue
        schema = content.get("schema")
        if schema:
            content["examples"] = {"answer": {"summary": "An answer", "value": _value(schema, schemas, depth=0)}}


_SAMPLES = {
    "uuid": "0193a5f2-7c1e-7b2a-9d4e-2f6a8c1b3e5d",
    "date-time": "2026-12-01T09:30:00Z",
    "date": "2026-12-01",
    "uri": "https://dropline.example/api/v1/orders/?cursor=cD0yMDI2",
    "email": "ops@example.com",
    "decimal": "12.50",
}


def _value(schema: dict[str, Any], schemas: dict[str, Any], *, depth: int) -> Any:
    if "$ref" in schema:
        return _value(schemas.get(schema["$ref"].rsplit("/", 1)[-1], {}), schemas, depth=depth)
    for combined in ("allOf", "oneOf", "anyOf"):
        if schema.get(combined):
            return _value(schema[combined][0], schemas, depth=depth)
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return next((value for value in schema["enum"] if value is not None), None)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        return {name: _value(sub, schemas, depth=depth + 1) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [] if depth > 4 else [_value(schema.get("items", {}), schemas, depth=depth + 1)]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "string":
        return _SAMPLES.get(schema.get("format", ""), "string")
    return None
