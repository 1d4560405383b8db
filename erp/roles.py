"""Roles and what each may do. docs/roles.md is generated from this table (`manage.py roles_table`).

Views and API endpoints name the permission they need; they never test a role by name, so changing what a role may
do is a change to this file alone.
"""

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
    WEBHOOKS_MANAGE = "webhooks.manage"  # outbound webhook endpoints, their secrets and delivery logs


PERMISSION_DESCRIPTIONS: dict[Perm, str] = {
    Perm.VIEW: "See orders, inventory, shipping, stores and settings",
    Perm.ORGANIZATION_MANAGE: "Rename the organization, change its time zone",
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
    Perm.WEBHOOKS_MANAGE: "Add, change and remove webhook endpoints, rotate their secrets, redeliver events",
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


class APIKeyScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


# What a partner system may do with a key. Keys never manage members, keys, stores or the organization: those stay
# with people in the dashboard.
API_KEY_PERMISSIONS: dict[APIKeyScope, frozenset[Perm]] = {
    APIKeyScope.READ: frozenset({Perm.VIEW}),
    APIKeyScope.WRITE: frozenset(
        {
            Perm.VIEW,
            Perm.INVENTORY_MANAGE,
            Perm.ORDERS_MANAGE,
            Perm.LABELS_BUY,
            Perm.LABELS_PRINT,
            Perm.HANDOFF_MANAGE,
            Perm.AFTERSALES_DECIDE,  # a helpdesk or returns portal answers buyers' requests
            Perm.WEBHOOKS_MANAGE,  # a partner system subscribes its own receiver (docs/webhooks.md)
        }
    ),
}


def roles_markdown_table() -> str:
    roles = list(Role)
    header = "| Permission | " + " | ".join(role.label for role in roles) + " | API key (read) | API key (write) |"
    divider = "|" + "---|" * (len(roles) + 3)
    rows = []
    for perm in Perm:
        marks = ["✓" if perm in ROLE_PERMISSIONS[role] else "" for role in roles]
        marks += ["✓" if perm in API_KEY_PERMISSIONS[scope] else "" for scope in APIKeyScope]
        rows.append(f"| {PERMISSION_DESCRIPTIONS[perm]} (`{perm.value}`) | " + " | ".join(marks) + " |")
    return "\n".join([header, divider, *rows])
