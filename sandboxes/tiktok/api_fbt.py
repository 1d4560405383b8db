"""Fulfilled by TikTok (FBT): onboarded regions, FBT warehouses, FBT inventory and goods (README §8).

The FBT specs list no error codes of their own, so invalid parameters (page_size, page_token, over-long id lists,
goods_ids together with sku_ids) answer 36009004 like the other APIs without documented codes (deviation 3). A shop
that is not onboarded sees an empty `data` on Onboarded Regions (as documented) and empty lists elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from .api_orders import decode_token, encode_token, page_size_param
from .errors import ApiError
from .gateway import Request
from .state import FbtGoods, FbtStock, FbtWarehouse, Shop, World

if TYPE_CHECKING:
    from .app import TikTokSandbox

INVALID = 36009004
MAX_IDS = 100


def _warehouses(world: World, shop: Shop) -> list[FbtWarehouse]:
    return world.fbt_warehouses.get(shop.id, [])


def _id_list(body: dict[str, Any], key: str) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_IDS or not all(isinstance(v, str | int) for v in value):
        raise ApiError(INVALID, f"Invalid {key}: a list of at most {MAX_IDS} ids.")
    return [str(v) for v in value]


def _page(req: Request, body: dict[str, Any], rows: list[Any]) -> tuple[list[Any], str]:
    """The page of `rows` the query asks for, and the token of the next one ("" on the last page)."""
    page_size = page_size_param(req, 1, 100, INVALID)
    filter_hash = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
    start = 0
    if req.query.get("page_token"):
        cursor = decode_token(req.query["page_token"], INVALID)
        if cursor.get("h") != filter_hash or cursor.get("a") != req.api:
            raise ApiError(INVALID, "Invalid page_token.")
        start = int(cursor.get("o", 0))
    more = start + page_size < len(rows)
    token = encode_token({"a": req.api, "h": filter_hash, "o": start + page_size}) if more else ""
    return rows[start : start + page_size], token


# ---------------------------------------------------------------------- regions and warehouses
def onboarded_regions(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    if not _warehouses(sb.world, req.shop):
        return {}  # "If seller is not onboarded, `data` will be empty."
    return {"onboarded_regions": [{"region_code": req.shop.region}]}


def warehouse_view(wh: FbtWarehouse) -> dict[str, Any]:
    return {
        "fbt_warehouse_id": wh.fbt_warehouse_id,
        "warehouse_ids": list(wh.warehouse_ids),
        "name": wh.name,
        "type": wh.type,
        "subscribed": wh.subscribed,
        "addresses": [dict(wh.address)],
        "logistics_services": [dict(s) for s in wh.logistics_services],
    }


def warehouses(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    return {"warehouses": [warehouse_view(w) for w in _warehouses(sb.world, req.shop)]}


# ---------------------------------------------------------------------- inventory
def stock_view(world: World, stock: FbtStock) -> dict[str, Any]:
    goods = world.fbt_goods[stock.goods_id]
    on_hand = {
        "total_quantity": stock.total,
        "available_quantity": stock.available,
        "reserved_quantity": stock.reserved,
    }
    return {
        "goods": {
            "id": goods.id,
            "reference_code": goods.reference_code,
            "name": goods.name,
            # Per SKU "physically in the warehouse": available + reserved (the SKU view has no unfulfillable).
            "skus": [
                {
                    "id": sku_id,
                    "on_hand_detail": {**on_hand, "total_quantity": stock.available + stock.reserved},
                }
                for sku_id in goods.sku_ids
            ],
        },
        "fbt_warehouse_id": stock.fbt_warehouse_id,
        "in_transit_quantity": stock.in_transit,
        "on_hand_detail": {**on_hand, "unfulfillable_quantity": stock.unfulfillable},
    }


def search_inventory(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    world = sb.world
    body = req.body_obj()
    goods_ids = _id_list(body, "goods_ids")
    sku_ids = _id_list(body, "sku_ids")
    wh_ids = _id_list(body, "fbt_warehouse_ids")
    if goods_ids is not None and sku_ids is not None:
        raise ApiError(INVALID, "Only one of goods_ids or sku_ids is allowed.")
    mine = {w.fbt_warehouse_id for w in _warehouses(world, req.shop) if w.subscribed}
    wanted_wh = mine if wh_ids is None else mine & set(wh_ids)

    def keep(stock: FbtStock) -> bool:
        goods = world.fbt_goods[stock.goods_id]
        if goods.shop_id != req.shop.id or stock.fbt_warehouse_id not in wanted_wh:  # type: ignore[union-attr]
            return False
        if goods_ids is not None:
            return goods.id in goods_ids
        if sku_ids is not None:
            return bool(set(goods.sku_ids) & set(sku_ids))
        # Without a goods or SKU filter: "all goods with non-zero inventory will be returned" (on hand or in transit).
        return stock.total + stock.in_transit > 0

    rows = sorted((s for s in world.fbt_stock.values() if keep(s)), key=lambda s: (s.goods_id, s.fbt_warehouse_id))
    page, token = _page(req, body, rows)
    return {"next_page_token": token, "total_count": len(rows), "inventory": [stock_view(world, s) for s in page]}


# ---------------------------------------------------------------------- goods
def goods_view(sb: TikTokSandbox, goods: FbtGoods) -> dict[str, Any]:
    world = sb.world
    length, width, height = goods.dims_in
    dims = {"width": f"{width:.3f}", "length": f"{length:.3f}", "height": f"{height:.3f}", "unit": "INCH"}
    weight = {"value": f"{goods.weight_lb:.3f}", "unit": "POUND"}
    skus = []
    for sku_id in goods.sku_ids:
        sku = world.skus[sku_id]
        product = world.products[sku.product_id]
        skus.append(
            {
                "id": sku.id,
                "name": sku.name,
                "image_url": "",
                "product": {"id": product.id, "name": product.title, "image_url": ""},
                "regions": [world.shops[goods.shop_id].region],
                "matched": True,
            }
        )
    return {
        "id": goods.id,
        "name": goods.name,
        "barcodes": [{"code": goods.reference_code, "type": "MERCHANT SKU ID"}],
        "reference_code": goods.reference_code,
        "image_url": "",
        "merchant_declaration_info": {"weight": weight, "dimension": dims},
        "warehouse_confirmation_info": {"weight": weight, "dimension": dims},
        "skus": skus,
        "lot_expiration_info": {"is_lot_control": False, "is_expiration_management": False},
    }


def search_goods(sb: TikTokSandbox, req: Request) -> dict[str, Any]:
    assert req.shop is not None
    world = sb.world
    body = req.body_obj()
    filters = {key: _id_list(body, key) for key in ("goods_ids", "product_ids", "reference_codes", "sku_ids")}

    def keep(goods: FbtGoods) -> bool:
        if goods.shop_id != req.shop.id:  # type: ignore[union-attr]
            return False
        product_ids = {world.skus[s].product_id for s in goods.sku_ids}
        checks = (
            ("goods_ids", {goods.id}),
            ("product_ids", product_ids),
            ("reference_codes", {goods.reference_code}),
            ("sku_ids", set(goods.sku_ids)),
        )
        return all(filters[key] is None or set(filters[key] or ()) & have for key, have in checks)

    rows = sorted((g for g in world.fbt_goods.values() if keep(g)), key=lambda g: g.id)
    page, token = _page(req, body, rows)
    return {"next_page_token": token, "total_count": len(rows), "goods": [goods_view(sb, g) for g in page]}


# ---------------------------------------------------------------------- control API helper
def set_stock(world: World, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /sandbox/fbt/inventory`: set quantities of the goods matched to `sku_id` (or `goods_id`) in one FBT
    warehouse. Fields not given keep their value; a goods new to the warehouse starts at zero."""
    wh_id = str(body["fbt_warehouse_id"])
    wh = next((w for ws in world.fbt_warehouses.values() for w in ws if w.fbt_warehouse_id == wh_id), None)
    if wh is None:
        raise KeyError(f"unknown fbt_warehouse_id {wh_id}")
    if body.get("goods_id"):
        goods = world.fbt_goods[str(body["goods_id"])]
    else:
        sku_id = str(body["sku_id"])
        goods = next(
            (g for g in sorted(world.fbt_goods.values(), key=lambda g: g.id) if sku_id in g.sku_ids),
            None,
        )
        if goods is None:
            raise KeyError(f"no FBT goods matched to sku_id {sku_id}")
    if goods.shop_id != wh.shop_id:
        raise ValueError("the goods and the FBT warehouse belong to different shops")
    stock = world.fbt_stock.setdefault((goods.id, wh_id), FbtStock(goods.id, wh_id, 0, 0))
    for key, attr in (
        ("available", "available"),
        ("reserved", "reserved"),
        ("unfulfillable", "unfulfillable"),
        ("in_transit", "in_transit"),
    ):
        if key in body:
            value = body[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{key} must be a non-negative integer")
            setattr(stock, attr, value)
    return stock_view(world, stock)


def describe_stock(world: World, shop_id: str | None = None) -> dict[str, Any]:
    """`GET /sandbox/fbt/inventory`: every FBT record (optionally of one shop), zero quantities included."""
    rows = [
        {"shop_id": world.fbt_goods[s.goods_id].shop_id, **stock_view(world, s)}
        for s in sorted(world.fbt_stock.values(), key=lambda s: (s.goods_id, s.fbt_warehouse_id))
        if shop_id is None or world.fbt_goods[s.goods_id].shop_id == shop_id
    ]
    warehouses = [
        {"shop_id": sid, **warehouse_view(w)}
        for sid, ws in world.fbt_warehouses.items()
        if shop_id is None or sid == shop_id
        for w in ws
    ]
    return {"warehouses": warehouses, "inventory": rows}
