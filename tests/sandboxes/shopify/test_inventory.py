"""§5 and §10.4: inventorySetQuantities with the 2026-04 rules (compare-and-swap, mandatory @idempotent, 250 items,
InventoryItem GIDs), inventoryAdjustQuantities, and how sales, cancellations and edits move stock."""

from __future__ import annotations

from typing import Any

from .conftest import SHOP, Shopify

SET = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup {
      id reason referenceDocumentUri
      changes { name delta quantityAfterChange item { id } location { id } }
    }
    userErrors { field message code }
  }
}
"""
SET_WITHOUT_KEY = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id changes { name delta } }
    userErrors { field message code }
  }
}
"""
ADJUST = """
mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange ledgerDocumentUri } }
    userErrors { field message code }
  }
}
"""
SEP_2026 = 1_785_542_400  # 2026-08-01T00:00:00Z: 2026-01 is still a supported version then


def target(api: Shopify, sku: str, location: int = 0) -> tuple[str, str, dict[str, Any]]:
    """(inventory item GID, location GID, current quantities) of a SKU at the shop's n-th stocking location."""
    view = api.client.get(f"/sandbox/inventory/{sku}", params={"shop": SHOP}).json()
    level = view["levels"][location]
    return view["inventory_item_id"], level["location_id"], level


def set_input(quantities: list[dict[str, Any]], name: str = "available", **extra: Any) -> dict[str, Any]:
    return {"name": name, "reason": "correction", "quantities": quantities, **extra}


def run_set(api: Shopify, inp: dict[str, Any], key: str, version: str = "2026-10") -> dict[str, Any]:
    r = api.gql(SET, {"input": inp, "key": key}, version=version)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["inventorySetQuantities"]
    return payload


def test_set_available_with_compare_and_swap(api: Shopify) -> None:
    item, location, level = target(api, "WOMEN-RED-M")
    ref = "gid://dropline/StockSync/1"
    result = run_set(
        api,
        set_input(
            [
                {
                    "inventoryItemId": item,
                    "locationId": location,
                    "quantity": level["available"] + 7,
                    "changeFromQuantity": level["available"],
                }
            ],
            referenceDocumentUri=ref,
        ),
        key="k-1",
    )
    assert result["userErrors"] == []
    group = result["inventoryAdjustmentGroup"]
    assert group["reason"] == "correction"
    assert group["referenceDocumentUri"] == ref
    assert {c["name"]: (c["delta"], c["quantityAfterChange"]) for c in group["changes"]} == {
        "available": (7, level["available"] + 7),
        "on_hand": (7, level["on_hand"] + 7),
    }
    assert all(c["item"]["id"] == item and c["location"]["id"] == location for c in group["changes"])
    after = target(api, "WOMEN-RED-M")[2]
    assert (after["available"], after["committed"]) == (level["available"] + 7, level["committed"])


def test_a_stale_change_from_quantity_refuses_the_whole_call(api: Shopify) -> None:
    a_item, a_loc, a = target(api, "LED-WHT")
    b_item, b_loc, b = target(api, "CAST-12IN")
    result = run_set(
        api,
        set_input(
            [
                {"inventoryItemId": a_item, "locationId": a_loc, "quantity": 1, "changeFromQuantity": a["available"]},
                {
                    "inventoryItemId": b_item,
                    "locationId": b_loc,
                    "quantity": 1,
                    "changeFromQuantity": b["available"] + 1,
                },
            ]
        ),
        key="k-stale",
    )
    assert result == {
        "inventoryAdjustmentGroup": None,
        "userErrors": [
            {
                "field": ["input", "quantities", "1", "changeFromQuantity"],
                "message": "The changeFromQuantity value does not match persisted value.",
                "code": "CHANGE_FROM_QUANTITY_STALE",
            }
        ],
    }
    assert target(api, "LED-WHT")[2]["available"] == a["available"]  # the valid first row was not applied either
    assert target(api, "CAST-12IN")[2]["available"] == b["available"]


def test_change_from_quantity_must_be_sent_but_null_skips_the_check(api: Shopify) -> None:
    item, location, level = target(api, "YOGA-PUR")
    r = api.gql(
        SET, {"input": set_input([{"inventoryItemId": item, "locationId": location, "quantity": 3}]), "key": "k"}
    )
    body = r.json()
    assert r.status_code == 200
    assert body["data"]["inventorySetQuantities"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_FIELD_ARGUMENTS"
    assert "changeFromQuantity" in body["errors"][0]["message"]
    assert target(api, "YOGA-PUR")[2]["available"] == level["available"]
    result = run_set(
        api,
        set_input([{"inventoryItemId": item, "locationId": location, "quantity": 3, "changeFromQuantity": None}]),
        key="k-null",
    )
    assert result["userErrors"] == []
    assert target(api, "YOGA-PUR")[2]["available"] == 3


def test_idempotent_directive_is_mandatory_from_2026_04(api: Shopify) -> None:
    item, location, level = target(api, "YOGA-TEAL")
    inp = set_input([{"inventoryItemId": item, "locationId": location, "quantity": 9, "changeFromQuantity": None}])
    r = api.gql(SET_WITHOUT_KEY, {"input": inp})
    body = r.json()
    assert r.status_code == 200
    assert body["data"]["inventorySetQuantities"] is None
    assert (
        body["errors"][0]["message"] == "The @idempotent directive is required for this mutation but was not provided."
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert target(api, "YOGA-TEAL")[2]["available"] == level["available"]


def test_a_repeated_key_answers_the_first_result_without_applying_twice(api: Shopify) -> None:
    item, location, level = target(api, "TAINLE-SIL")
    inp = set_input(
        [
            {
                "inventoryItemId": item,
                "locationId": location,
                "quantity": level["available"] + 5,
                "changeFromQuantity": level["available"],
            }
        ]
    )
    first = run_set(api, inp, key="6f1b1b3e-5c0c-4a9e-9d7a-1b2f6f0c1a11")
    second = run_set(api, inp, key="6f1b1b3e-5c0c-4a9e-9d7a-1b2f6f0c1a11")
    assert first["userErrors"] == second["userErrors"] == []
    assert second["inventoryAdjustmentGroup"] == first["inventoryAdjustmentGroup"]
    assert target(api, "TAINLE-SIL")[2]["available"] == level["available"] + 5
    changes = api.client.get(
        "/sandbox/inventory/changes", params={"shop": SHOP, "source": "inventorySetQuantities"}
    ).json()
    assert changes["count"] == 1
    other = dict(inp, reason="restock")
    mismatch = run_set(api, other, key="6f1b1b3e-5c0c-4a9e-9d7a-1b2f6f0c1a11")
    assert mismatch == {
        "inventoryAdjustmentGroup": None,
        "userErrors": [
            {
                "field": None,
                "message": "The same idempotency key cannot be used with different operation parameters.",
                "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
            }
        ],
    }


def test_more_than_250_quantities_are_refused(api: Shopify) -> None:
    item, location, _ = target(api, "LED-WHT")
    row = {"inventoryItemId": item, "locationId": location, "quantity": 1, "changeFromQuantity": None}
    r = api.gql(SET, {"input": set_input([row] * 251), "key": "k-251"})
    body = r.json()
    assert r.status_code == 200
    assert body.get("data") is None
    assert body["errors"][0]["message"] == "The input array size of 251 is greater than the maximum allowed of 250."
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    at_limit = run_set(api, set_input([row] * 250), key="k-250")  # allowed in size; refused as duplicates
    assert {e["code"] for e in at_limit["userErrors"]} == {"NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"}


def test_wrong_ids_and_values_are_user_errors_with_codes(api: Shopify) -> None:
    variant = api.data('{ productVariants(first: 1, query: "sku:LED-WHT") { nodes { id } } }')
    variant_id = variant["productVariants"]["nodes"][0]["id"]
    item, location, _ = target(api, "LED-WHT")
    frame, _, _ = target(api, "TANDING-FRAME")
    second_location = target(api, "LED-WHT", 1)[1]
    uk_location = api.client.get("/sandbox/state").json()["shops"][1]["locations"][0]["id"]
    rows = [
        {"inventoryItemId": variant_id, "locationId": location, "quantity": 1, "changeFromQuantity": None},
        {"inventoryItemId": item, "locationId": uk_location, "quantity": 1, "changeFromQuantity": None},
        {"inventoryItemId": frame, "locationId": second_location, "quantity": 1, "changeFromQuantity": None},
        {"inventoryItemId": item, "locationId": location, "quantity": -1, "changeFromQuantity": None},
    ]
    result = run_set(api, set_input(rows), key="k-wrong")
    errors = [(e["field"], e["code"]) for e in result["userErrors"]]
    assert errors == [
        (["input", "quantities", "0", "inventoryItemId"], "INVALID_INVENTORY_ITEM"),
        (["input", "quantities", "1", "locationId"], "INVALID_LOCATION"),
        (["input", "quantities", "2", "locationId"], "ITEM_NOT_STOCKED_AT_LOCATION"),
        (["input", "quantities", "3", "quantity"], "INVALID_QUANTITY_NEGATIVE"),
    ]
    assert result["userErrors"][0]["message"].startswith("The specified inventory item could not be found.")
    assert "ProductVariant" in result["userErrors"][0]["message"]
    assert result["inventoryAdjustmentGroup"] is None
    ok_row = [{"inventoryItemId": item, "locationId": location, "quantity": 1, "changeFromQuantity": None}]
    bad_name = run_set(api, set_input(ok_row, name="committed"), key="k-name")
    assert bad_name["userErrors"] == [
        {
            "field": ["input", "name"],
            "message": "The quantity name must be either 'available' or 'on_hand'.",
            "code": "INVALID_NAME",
        }
    ]
    bad_reason = run_set(api, dict(set_input(ok_row), reason="because"), key="k-reason")
    assert [e["code"] for e in bad_reason["userErrors"]] == ["INVALID_REASON"]


def test_setting_on_hand_moves_available_and_keeps_committed(api: Shopify) -> None:
    item, location, level = target(api, "WOMEN-RED-L")
    result = run_set(
        api,
        set_input(
            [
                {
                    "inventoryItemId": item,
                    "locationId": location,
                    "quantity": level["on_hand"] - 4,
                    "changeFromQuantity": level["on_hand"],
                }
            ],
            name="on_hand",
        ),
        key="k-on-hand",
    )
    assert result["userErrors"] == []
    after = target(api, "WOMEN-RED-L")[2]
    assert (after["on_hand"], after["available"], after["committed"]) == (
        level["on_hand"] - 4,
        level["available"] - 4,
        level["committed"],
    )


def test_versions_before_2026_04_keep_compare_quantity(api: Shopify) -> None:
    api.client.post("/sandbox/clock", json={"set": SEP_2026})
    item, location, level = target(api, "ORGANIC-03M")
    row = {"inventoryItemId": item, "locationId": location, "quantity": 11}
    r = api.gql(SET_WITHOUT_KEY, {"input": set_input([row])}, version="2026-01")
    assert r.headers["x-shopify-api-version"] == "2026-01"
    assert r.json()["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "COMPARE_QUANTITY_REQUIRED"
    stale = api.gql(
        SET_WITHOUT_KEY, {"input": set_input([dict(row, compareQuantity=level["available"] + 1)])}, version="2026-01"
    )
    assert stale.json()["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "COMPARE_QUANTITY_STALE"
    ok = api.gql(SET_WITHOUT_KEY, {"input": set_input([row], ignoreCompareQuantity=True)}, version="2026-01")
    assert ok.json()["data"]["inventorySetQuantities"]["userErrors"] == []  # no key needed before 2026-04
    assert target(api, "ORGANIC-03M")[2]["available"] == 11
    # Removed in 2026-04: the field itself is unknown there.
    gone = api.gql(
        SET, {"input": set_input([dict(row, changeFromQuantity=None)], ignoreCompareQuantity=True), "key": "k"}
    )
    assert gone.status_code == 200
    assert "ignoreCompareQuantity" in gone.json()["errors"][0]["message"]


def test_adjust_quantities_with_ledger_rules(api: Shopify) -> None:
    item, location, level = target(api, "BLUETOOTH-BK")

    def adjust(name: str, delta: int, key: str, ledger: str | None = None) -> dict[str, Any]:
        change: dict[str, Any] = {"inventoryItemId": item, "locationId": location, "delta": delta}
        if ledger is not None:
            change["ledgerDocumentUri"] = ledger
        inp = {"name": name, "reason": "correction", "changes": [change]}
        body = api.gql(ADJUST, {"input": inp, "key": key}).json()
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["inventoryAdjustQuantities"]
        return payload

    down = adjust("available", -3, "a-1")
    assert down["userErrors"] == []
    assert {c["name"]: c["delta"] for c in down["inventoryAdjustmentGroup"]["changes"]} == {
        "available": -3,
        "on_hand": -3,
    }
    assert adjust("available", -3, "a-1") == down  # replayed, not applied again
    assert target(api, "BLUETOOTH-BK")[2]["available"] == level["available"] - 3
    assert adjust("reserved", 2, "a-2")["userErrors"][0]["code"] == "INVALID_QUANTITY_DOCUMENT"
    assert adjust("available", 2, "a-3", "https://erp.example/doc/1")["userErrors"][0]["code"] == (
        "INVALID_AVAILABLE_DOCUMENT"
    )
    assert adjust("reserved", 2, "a-4", "gid://shopify/Order/1")["userErrors"][0]["code"] == "INVALID_LEDGER_DOCUMENT"
    reserved = adjust("reserved", 2, "a-5", "gid://dropline/Reservation/9")
    assert reserved["userErrors"] == []
    after = target(api, "BLUETOOTH-BK")[2]
    assert (after["reserved"], after["on_hand"], after["available"]) == (
        2,
        level["on_hand"] - 1,
        level["available"] - 3,
    )
    no_key = api.gql(
        ADJUST.replace(" @idempotent(key: $key)", "").replace(", $key: String!", ""),
        {
            "input": {
                "name": "available",
                "reason": "correction",
                "changes": [{"inventoryItemId": item, "locationId": location, "delta": 1}],
            }
        },
    ).json()
    assert no_key["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_sale_commits_stock_and_a_cancellation_restocks_it(api: Shopify) -> None:
    before = api.level("CAST-12IN")
    order = api.order([("CAST-12IN", 4)])
    sold = api.level("CAST-12IN")
    assert (sold["available"], sold["committed"], sold["on_hand"]) == (
        before["available"] - 4,
        before["committed"] + 4,
        before["on_hand"],
    )
    numeric = order["id"].rsplit("/", 1)[1]
    api.control("POST", f"orders/{numeric}", remove={"CAST-12IN": 1})  # an order edit takes one unit off
    edited = api.level("CAST-12IN")
    assert (edited["available"], edited["committed"]) == (before["available"] - 3, before["committed"] + 3)
    api.control("POST", f"orders/{numeric}/cancel", reason="customer")
    assert api.level("CAST-12IN") == {**before, "updated_at": api.level("CAST-12IN")["updated_at"]}


def test_inventory_mutations_need_write_inventory(shopify: Shopify) -> None:
    shopify.install("read_inventory")
    item, location, _ = target(shopify, "LED-WHT")
    r = shopify.gql(
        SET,
        {
            "input": set_input(
                [{"inventoryItemId": item, "locationId": location, "quantity": 1, "changeFromQuantity": None}]
            ),
            "key": "k",
        },
    )
    body = r.json()
    assert body["data"]["inventorySetQuantities"] is None
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "write_inventory" in body["errors"][0]["message"]
