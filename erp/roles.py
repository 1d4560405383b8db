"""Roles and what each may do. docs/roles.md is generated from this table (`manage.py roles_table`).

Views and API endpoints name the permission they need; they never test a role by name, so changing what a role may
do is a change to this file alone.
"""

from collections.abc import Iterable
from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    OPERATOR = "operator", "Operator"
    WAREHOUSE = "warehouse", "Warehouse"
    VIEWER = "viewer", "Viewer"
    SUPPLIER = "supplier", "Supplier"


class Perm(StrEnum):
    VIEW = "view"  # read anything in the organization
    ORGANIZATION_MANAGE = "organization.manage"  # rename, time zone, delete
    ORGANIZATION_EXPORT = "organization.export"  # export all data (every buyer's address in one zip)
    MEMBERS_MANAGE = "members.manage"  # invite, remove, change roles
    API_KEYS_MANAGE = "api_keys.manage"
    AUDIT_VIEW = "audit.view"
    STORES_MANAGE = "stores.manage"  # connect, reconnect, disconnect, store policy
    RULES_MANAGE = "rules.manage"  # logistics rules
    INVENTORY_MANAGE = "inventory.manage"  # SKUs, listings, warehouses, stock adjustments
    ORDERS_MANAGE = "orders.manage"  # holds, edits, manual orders
    LABELS_BUY = "labels.buy"  # spends money: label batches
    LABELS_PRINT = "labels.print"  # print and reprint, pick lists, packing slips, scan-verify
    PACKING_OVERRIDE = "packing.override"  # mark a parcel packed although its scanned units do not match
    HANDOFF_MANAGE = "handoffs.manage"  # acknowledge supplier handoffs, mark handed to carrier
    HANDOFF_RECEIVE = "handoffs.receive"  # the supplier portal: one's own warehouse's handoffs
    RETURNS_RECEIVE = "returns.receive"  # receive returned parcels: restock or write off their units
    AFTERSALES_DECIDE = "aftersales.decide"  # approve or reject cancellations and returns; cancel an order
    WEBHOOKS_MANAGE = "webhooks.manage"  # outbound webhook subscriptions: where the organization's events go


PERMISSION_DESCRIPTIONS: dict[Perm, str] = {
    Perm.VIEW: "See orders, inventory, shipping, stores and settings",
    Perm.ORGANIZATION_MANAGE: "Rename the organization, change its time zone, delete it",
    Perm.ORGANIZATION_EXPORT: "Export all of the organization's data (a zip of CSV files and PDFs)",
    Perm.MEMBERS_MANAGE: "Invite and remove members, change roles",
    Perm.API_KEYS_MANAGE: "Create and revoke API keys",
    Perm.AUDIT_VIEW: "Read the audit log",
    Perm.STORES_MANAGE: "Connect and disconnect stores, change store policy",
    Perm.RULES_MANAGE: "Create, change and reorder logistics rules",
    Perm.INVENTORY_MANAGE: "Change SKUs, listings, warehouses and stock",
    Perm.ORDERS_MANAGE: "Release holds, edit addresses, create manual orders",
    Perm.LABELS_BUY: "Buy shipping labels (spends money)",
    Perm.LABELS_PRINT: "Print and reprint labels, pick lists and packing slips; scan-verify packages",
    Perm.PACKING_OVERRIDE: "Mark a parcel packed although its scanned items do not match (with a reason, audited)",
    Perm.HANDOFF_MANAGE: "Acknowledge supplier handoffs and mark packages handed to the carrier",
    Perm.HANDOFF_RECEIVE: "See and work the label handoffs of one's own supplier warehouse",
    Perm.RETURNS_RECEIVE: "Receive returned parcels at a warehouse: restock or write off their units",
    Perm.AFTERSALES_DECIDE: "Approve or reject buyers' cancellation and return requests; cancel an order (refunds)",
    Perm.WEBHOOKS_MANAGE: "Add, change and remove webhook subscriptions (they send the organization's events out)",
}

_EVERYTHING = frozenset(Perm)
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.OWNER: _EVERYTHING,
    Role.ADMIN: _EVERYTHING - {Perm.ORGANIZATION_MANAGE},
    Role.OPERATOR: frozenset(
        {
            Perm.VIEW,
            Perm.INVENTORY_MANAGE,
            Perm.ORDERS_MANAGE,
            Perm.LABELS_BUY,
            Perm.LABELS_PRINT,
            Perm.HANDOFF_MANAGE,
            Perm.RETURNS_RECEIVE,
            Perm.AFTERSALES_DECIDE,
        }
    ),
    Role.WAREHOUSE: frozenset({Perm.VIEW, Perm.LABELS_PRINT, Perm.HANDOFF_MANAGE, Perm.RETURNS_RECEIVE}),
    Role.VIEWER: frozenset({Perm.VIEW}),
    Role.SUPPLIER: frozenset({Perm.HANDOFF_RECEIVE}),  # the supplier portal and nothing else
}


def home_url_name(permissions: frozenset[Perm]) -> str:
    """Where a member lands (after sign-up, sign-in, joining or switching): the seller's dashboard, or the supplier
    portal for members whose only work is their warehouse's handoffs."""
    if Perm.VIEW not in permissions and Perm.HANDOFF_RECEIVE in permissions:
        return "supplier_home"
    return "dashboard"


# Roles an inviter may hand out: nobody can create a member more powerful than themselves.
ROLE_RANK = {Role.SUPPLIER: 0, Role.VIEWER: 0, Role.WAREHOUSE: 1, Role.OPERATOR: 2, Role.ADMIN: 3, Role.OWNER: 4}


class ResourceFamily(StrEnum):
    """What an API endpoint is about. Every /api/v1 view names one (`resource_family`); an API key's scopes are
    read or write per family."""

    ORGANIZATION = "organization"  # the organization, its members
    AUDIT = "audit"
    STORES = "stores"
    ORDERS = "orders"
    CATALOG = "catalog"  # SKUs, listings, mapping
    INVENTORY = "inventory"  # warehouses, stock levels, adjustments, receipts, the ledger
    RULES = "rules"
    LABELS = "labels"  # quotes, label batches, documents
    HANDOFFS = "handoffs"
    AFTERSALES = "aftersales"
    REPORTS = "reports"  # compliance, at-risk
    WEBHOOKS = "webhooks"


class Access(StrEnum):
    READ = "read"  # GET, HEAD, OPTIONS
    WRITE = "write"  # everything else; implies read


# What each scope lends a key, *within its family's endpoints only*: an endpoint asks for its family's scope and
# then for the permission it names (`read_permission` / `write_permission`), looked up here. Catalog and inventory
# both lend `inventory.manage`, yet a catalog:write key cannot adjust stock, because the lookup is per family.
# A family without a WRITE entry cannot be written with a key: members, keys, stores and the organization stay with
# people in the dashboard.
_READ = frozenset({Perm.VIEW})
SCOPE_PERMISSIONS: dict[ResourceFamily, dict[Access, frozenset[Perm]]] = {
    ResourceFamily.ORGANIZATION: {Access.READ: _READ},
    ResourceFamily.AUDIT: {Access.READ: frozenset({Perm.AUDIT_VIEW})},
    # Writing stores is asking for a sync now (connecting and disconnecting stay with people in the dashboard).
    ResourceFamily.STORES: {Access.READ: _READ, Access.WRITE: frozenset({Perm.ORDERS_MANAGE})},
    ResourceFamily.ORDERS: {Access.READ: _READ, Access.WRITE: frozenset({Perm.ORDERS_MANAGE})},
    ResourceFamily.CATALOG: {Access.READ: _READ, Access.WRITE: frozenset({Perm.INVENTORY_MANAGE})},
    ResourceFamily.INVENTORY: {Access.READ: _READ, Access.WRITE: frozenset({Perm.INVENTORY_MANAGE})},
    ResourceFamily.RULES: {Access.READ: _READ, Access.WRITE: frozenset({Perm.RULES_MANAGE})},
    # Reading labels includes their printouts (a GET, recorded in the print history).
    ResourceFamily.LABELS: {
        Access.READ: frozenset({Perm.VIEW, Perm.LABELS_PRINT}),
        Access.WRITE: frozenset({Perm.LABELS_BUY, Perm.LABELS_PRINT}),
    },
    ResourceFamily.HANDOFFS: {
        Access.READ: frozenset({Perm.VIEW, Perm.HANDOFF_RECEIVE}),
        Access.WRITE: frozenset({Perm.HANDOFF_MANAGE, Perm.HANDOFF_RECEIVE}),
    },
    ResourceFamily.AFTERSALES: {
        Access.READ: _READ,
        Access.WRITE: frozenset({Perm.AFTERSALES_DECIDE, Perm.RETURNS_RECEIVE}),
    },
    ResourceFamily.REPORTS: {Access.READ: _READ},
    ResourceFamily.WEBHOOKS: {Access.READ: _READ, Access.WRITE: frozenset({Perm.WEBHOOKS_MANAGE})},
}


def scope_name(family: ResourceFamily, access: Access) -> str:
    return f"{family.value}:{access.value}"


# Every scope a key may hold, in the order the dashboard lists them.
KEY_SCOPES: tuple[str, ...] = tuple(
    scope_name(family, access) for family, grants in SCOPE_PERMISSIONS.items() for access in grants
)


def scope_permissions(scopes: Iterable[str], family: ResourceFamily) -> frozenset[Perm]:
    """What a key holding `scopes` may do on `family`'s endpoints; a write scope implies the family's read."""
    grants = SCOPE_PERMISSIONS[family]
    held: set[Perm] = set()
    if scope_name(family, Access.WRITE) in scopes and Access.WRITE in grants:
        held |= grants[Access.WRITE] | grants[Access.READ]
    elif scope_name(family, Access.READ) in scopes:
        held |= grants[Access.READ]
    return frozenset(held)


def scope_covers(scopes: Iterable[str], family: ResourceFamily, access: Access) -> bool:
    if access == Access.WRITE:
        return scope_name(family, Access.WRITE) in scopes
    return bool({scope_name(family, Access.READ), scope_name(family, Access.WRITE)} & set(scopes))


class APIKeyScope(models.TextChoices):
    """Presets of scopes (the dashboard's quick choices, and the single scope keys had before per-family scopes)."""

    READ = "read", "Read everything"
    WRITE = "write", "Read everything, write what keys may write"


# Read: every family but the audit log (it names members, addresses and IPs: grant `audit:read` on purpose).
# Write: that, plus write on exactly the families the single "write" scope could write before per-family scopes
# (docs/adr/0021): rules (they decide what money buys) and webhooks (they send data out) are granted on purpose.
_PRESET_WRITABLE = (
    ResourceFamily.ORDERS,
    ResourceFamily.CATALOG,
    ResourceFamily.INVENTORY,
    ResourceFamily.LABELS,
    ResourceFamily.HANDOFFS,
    ResourceFamily.AFTERSALES,
)
API_KEY_PRESETS: dict[APIKeyScope, tuple[str, ...]] = {
    APIKeyScope.READ: tuple(
        scope_name(family, Access.READ) for family in SCOPE_PERMISSIONS if family != ResourceFamily.AUDIT
    ),
    APIKeyScope.WRITE: tuple(
        scope_name(family, Access.WRITE if family in _PRESET_WRITABLE else Access.READ)
        for family in SCOPE_PERMISSIONS
        if family != ResourceFamily.AUDIT
    ),
}


def roles_markdown_table() -> str:
    """The role → permission table, then the API key scope → permission table (docs/roles.md holds both)."""
    roles = list(Role)
    header = "| Permission | " + " | ".join(role.label for role in roles) + " |"
    divider = "|" + "---|" * (len(roles) + 1)
    rows = []
    for perm in Perm:
        marks = ["✓" if perm in ROLE_PERMISSIONS[role] else "" for role in roles]
        rows.append(f"| {PERMISSION_DESCRIPTIONS[perm]} (`{perm.value}`) | " + " | ".join(marks) + " |")
    scope_rows = ["| API key scope | Lends, on that family's endpoints only |", "|---|---|"]
    for family in SCOPE_PERMISSIONS:
        for access in SCOPE_PERMISSIONS[family]:
            name = scope_name(family, access)
            lent = ", ".join(f"`{perm.value}`" for perm in sorted(scope_permissions([name], family)))
            scope_rows.append(f"| `{name}` | {lent} |")
    return "\n".join([header, divider, *rows, "", *scope_rows])
