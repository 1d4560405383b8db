"""What every resolver shares: the request context, scope checks, Relay connections and cursors, the search syntax.

Nodes are plain dicts; graphql-core's default resolver calls a callable value with (info, **arguments), which is how
connections (`lineItems(first:)`) take their arguments and how nested objects are rendered lazily (a variant's
inventory item points back at the variant, so eager rendering would never end).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from .state import Shop, World, parse_gid

# §2.6: the fulfillment-order read scopes; any one of them lets an app see the orders' fulfillment orders.
FO_READ_SCOPES = (
    "read_merchant_managed_fulfillment_orders",
    "read_assigned_fulfillment_orders",
    "read_third_party_fulfillment_orders",
    "read_marketplace_fulfillment_orders",
)


@dataclass
class Context:
    world: World
    shop: Shop
    scopes: list[str]
    now: float
    cfg: Any
    version: str = "2026-10"
    client_id: str = ""
    supported: tuple[str, ...] = ()

    @property
    def modern(self) -> bool:
        """True from 2026-04 on (§9.6): changeFromQuantity and @idempotent are mandatory."""
        return version_at_least(self.version, "2026-04")


def version_at_least(version: str, floor: str) -> bool:
    return version == "unstable" or version >= floor


def has_scope(scopes: list[str], scope: str) -> bool:
    # write_X implies read_X in Shopify's scope model.
    return scope in scopes or (scope.startswith("read_") and scope.replace("read_", "write_", 1) in scopes)


def access_denied(field_name: str, scopes: tuple[str, ...]) -> GraphQLError:
    required = " or ".join(f"`{s}` access scope" for s in scopes)
    return GraphQLError(
        f"Access denied for {field_name} field. Required access: {required}.",
        extensions={
            "code": "ACCESS_DENIED",
            "documentation": "https://shopify.dev/api/usage/access-scopes",
            "requiredAccess": f"{required}.",
        },
    )


def require(info: GraphQLResolveInfo, field_name: str, *scopes: str) -> Context:
    """The context, after checking the token holds one of `scopes` (none = no scope needed)."""
    ctx: Context = info.context
    if scopes and not any(has_scope(ctx.scopes, s) for s in scopes):
        raise access_denied(field_name, scopes)
    return ctx


def bad_request(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_REQUEST"})


def page_size(first: int | None, field_name: str, cfg: Any) -> int:
    if first is None:
        raise GraphQLError(
            "you must provide one of first or last", extensions={"code": "BAD_REQUEST", "field": field_name}
        )
    if first < 0 or first > cfg.max_page_size:
        raise GraphQLError(
            f"The maximum number of items in a single page is {cfg.max_page_size}; `first` was {first}.",
            extensions={"code": "MAX_PAGE_SIZE_EXCEEDED", "argumentName": "first", "maximum": cfg.max_page_size},
        )
    return first


def encode_cursor(payload: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
        if not isinstance(data, dict) or "last_id" not in data:
            raise ValueError(cursor)
        return data
    except ValueError as exc:
        raise GraphQLError("Invalid cursor for current pagination sort.", extensions={"code": "BAD_REQUEST"}) from exc


def connection(
    items: list[Any],
    key: Callable[[Any], tuple[Any, int]],
    first: int,
    after: str | None,
    render: Callable[[Any], Any],
    reverse: bool = False,
) -> dict[str, Any]:
    """Relay connection over `items` ordered by key(item) -> (sort value, id)."""
    ordered = sorted(items, key=key, reverse=reverse)
    if after:
        c = decode_cursor(after)
        mark = (c.get("last_value"), c["last_id"])
        ordered = [i for i in ordered if (key(i) < mark if reverse else key(i) > mark)]
    page = ordered[:first]
    edges = []
    for item in page:
        value, ident = key(item)
        edges.append({"cursor": encode_cursor({"last_id": ident, "last_value": value}), "node": render(item)})
    return {
        "edges": edges,
        "nodes": [e["node"] for e in edges],
        "pageInfo": {
            "hasNextPage": len(ordered) > first,
            "hasPreviousPage": bool(after),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def id_key(item: Any) -> tuple[int, int]:
    return (item.id, item.id)


def node_id(value: str, kind: str) -> int | None:
    """The number of a GID of `kind`; None for a well-formed GID of another type; an error when not a GID."""
    parsed = parse_gid(value)
    if parsed is None:
        raise bad_request(f"Invalid global id '{value}'")
    return parsed[1] if parsed[0] == kind else None


# ---------------------------------------------------------------------------------------------- search syntax
TERM_RE = re.compile(r"""(?P<neg>-)?(?P<field>[a-z_]+):(?P<op>>=|<=|>|<)?(?P<value>'[^']*'|"[^"]*"|\S+)""")
OR_RE = re.compile(r"\s+OR\s+")

Term = tuple[bool, str, str, str]  # (negated, field, operator, value)


def search_terms(query: str | None) -> list[Term]:
    terms = []
    for m in TERM_RE.finditer(query or ""):
        terms.append((m["neg"] == "-", m["field"], m["op"] or "", m["value"].strip("'\"")))
    return terms


def search_groups(query: str | None) -> list[tuple[list[Term], list[str]]]:
    """`a:1 b:2 OR c:3` -> [([a, b], []), ([c], [])]: terms ANDed within a group, groups ORed. Bare words (no
    field) are returned beside the terms of their group."""
    groups = []
    for part in OR_RE.split((query or "").strip()) if (query or "").strip() else []:
        words = [w.strip("'\"") for w in TERM_RE.sub(" ", part).split() if w not in ("AND",)]
        groups.append((search_terms(part), words))
    return groups


def text_match(value: str | None, pattern: str) -> bool:
    """Case-insensitive equality; a trailing `*` makes it a prefix match."""
    value = (value or "").lower()
    pattern = pattern.lower()
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def parse_time(value: str) -> float:
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        value += "T00:00:00Z"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).timestamp()
    except ValueError as exc:
        raise GraphQLError(f"Invalid date in search query: {value!r}", extensions={"code": "BAD_REQUEST"}) from exc


def compare(left: float, op: str, right: float) -> bool:
    return {
        ">=": left >= right,
        "<=": left <= right,
        ">": left > right,
        "<": left < right,
        "": left == right,
    }[op]
