"""§6: calculated query cost and the per (app, shop) leaky bucket.

Cost model (the notes' rough rule, see docs): scalars and enums 0, objects 1, a connection 2 plus
`first` x the cost of one node, a plain list with `first` (Order.fulfillments) `first` x the cost of one item, and
each mutation root field 10 instead of 1. The requested cost uses `first`; the actual cost counts what came back.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    value_from_ast_untyped,
)

MUTATION_COST = 10


def _fields(sel: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]) -> list[FieldNode]:
    out: list[FieldNode] = []
    if sel is None:
        return out
    for s in sel.selections:
        if isinstance(s, FieldNode):
            out.append(s)
        elif isinstance(s, InlineFragmentNode):
            out += _fields(s.selection_set, fragments)
        elif isinstance(s, FragmentSpreadNode) and s.name.value in fragments:
            out += _fields(fragments[s.name.value].selection_set, fragments)
    return out


def _arg(field: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for a in field.arguments or ():
        if a.name.value == name:
            return value_from_ast_untyped(a.value, variables)
    return None


def _cost(
    sel: SelectionSetNode | None,
    data: Any,
    actual: bool,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> int:
    total = 0
    for f in _fields(sel, fragments):
        if f.selection_set is None or f.name.value == "__typename":
            continue  # scalars and enums are free
        key = f.alias.value if f.alias else f.name.value
        value = data.get(key) if isinstance(data, dict) else None
        if actual and value is None:
            continue
        first = _arg(f, "first", variables)
        if first is None:
            first = _arg(f, "last", variables)
        if isinstance(first, int) and _is_connection(f, fragments):
            total += 2 + _connection(f, value, first, actual, fragments, variables)
        elif isinstance(first, int):
            # A plain list that takes `first`: each item is an object.
            if actual:
                items = value if isinstance(value, list) else []
                total += sum(1 + _cost(f.selection_set, v, True, fragments, variables) for v in items)
            else:
                total += first * (1 + _cost(f.selection_set, None, False, fragments, variables))
        elif f.name.value == "pageInfo":
            continue
        elif isinstance(value, list):
            total += sum(1 + _cost(f.selection_set, v, actual, fragments, variables) for v in value)
        else:
            total += 1 + _cost(f.selection_set, value, actual, fragments, variables)
    return total


def _is_connection(f: FieldNode, fragments: dict[str, FragmentDefinitionNode]) -> bool:
    return any(c.name.value in ("edges", "nodes", "pageInfo") for c in _fields(f.selection_set, fragments))


def _connection(
    f: FieldNode,
    value: Any,
    first: int,
    actual: bool,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> int:
    total = 0
    for child in _fields(f.selection_set, fragments):
        key = child.alias.value if child.alias else child.name.value
        items = value.get(key) if isinstance(value, dict) else None
        if child.name.value == "edges":
            node_fields = [n for n in _fields(child.selection_set, fragments) if n.name.value == "node"]
            for node in node_fields:
                nkey = node.alias.value if node.alias else node.name.value
                if actual:
                    total += sum(
                        1 + _cost(node.selection_set, e.get(nkey), True, fragments, variables)
                        for e in items or []
                        if isinstance(e, dict) and e.get(nkey) is not None
                    )
                else:
                    total += first * (1 + _cost(node.selection_set, None, False, fragments, variables))
        elif child.name.value == "nodes":
            if actual:
                total += sum(1 + _cost(child.selection_set, n, True, fragments, variables) for n in items or [])
            else:
                total += first * (1 + _cost(child.selection_set, None, False, fragments, variables))
    return total


def query_cost(
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    data: Any = None,
    actual: bool = False,
) -> int:
    if operation.operation.value != "mutation":
        return _cost(operation.selection_set, data, actual, fragments, variables)
    # A mutation root field costs 10 in Shopify's model (charged even when it answers null), plus its payload.
    total = 0
    for f in _fields(operation.selection_set, fragments):
        key = f.alias.value if f.alias else f.name.value
        value = data.get(key) if isinstance(data, dict) else None
        total += MUTATION_COST + _cost(f.selection_set, value, actual, fragments, variables)
    return total


class Bucket:
    def __init__(self, maximum: float, restore_rate: float) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.available = maximum
        self.stamp = time.monotonic()

    def _restore(self) -> None:
        now = time.monotonic()
        self.available = min(self.maximum, self.available + (now - self.stamp) * self.restore_rate)
        self.stamp = now

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": float(self.maximum),
            "currentlyAvailable": float(int(self.available)),
            "restoreRate": float(self.restore_rate),
        }


class CostLimiter:
    """Leaky buckets keyed by (client id, shop id)."""

    def __init__(self, maximum: float, restore_rate: float) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, int], Bucket] = {}

    def reset(self, maximum: float | None = None, restore_rate: float | None = None) -> None:
        with self._lock:
            if maximum is not None:
                self.maximum = maximum
            if restore_rate is not None:
                self.restore_rate = restore_rate
            self._buckets.clear()

    def _bucket(self, key: tuple[str, int]) -> Bucket:
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = Bucket(self.maximum, self.restore_rate)
        b._restore()
        return b

    def take(self, key: tuple[str, int], requested: int) -> tuple[bool, dict[str, float]]:
        """Deduct the requested cost up front; False (nothing deducted) when the bucket cannot cover it."""
        with self._lock:
            b = self._bucket(key)
            if requested > b.available:
                return False, b.status()
            b.available -= requested
            return True, b.status()

    def drain(self, key: tuple[str, int], available: float = 0.0) -> dict[str, float]:
        """Empty a bucket (a THROTTLED storm on demand); it refills at the restore rate from now."""
        with self._lock:
            b = self._bucket(key)
            b.available = max(0.0, min(b.maximum, available))
            return b.status()

    def refund(self, key: tuple[str, int], amount: int) -> dict[str, float]:
        with self._lock:
            b = self._bucket(key)
            b.available = min(b.maximum, b.available + max(0, amount))
            return b.status()
