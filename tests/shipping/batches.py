"""Realistic label batches for the document tests: A6 labels drawn by the TikTok sandbox, SKUs with bins."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sandboxes.tiktok.documents import render
from shipping.documents.batch import BatchOrder, PickLine

FIRST = ("Dana", "Luis", "Mei", "Oluwaseun", "Anna", "Jack", "Priya", "Tom")
LAST = ("Kim", "Garcia", "Chen", "Adeyemi", "Novak", "Smith", "Patel", "O'Brien")
PRODUCTS = ("Ceramic Mug", "Phone Case", "Yoga Mat", "LED Strip", "Hair Clip Set", "Water Bottle", "Sticker Pack")
VARIANTS = ("Red", "Blue", "Black / L", "White / M", "Pack of 3", "Matte")


def mask(name: str) -> str:
    return " ".join(w[0] + "*" * max(len(w) - 1, 1) for w in name.split())


def catalogue(count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """`count` SKUs as (seller_sku, name, bin); about one in twenty has no bin."""
    items = []
    for i in range(count):
        name = f"{rng.choice(PRODUCTS)} ({rng.choice(VARIANTS)})"
        aisle, shelf, slot = rng.choice("ABCDEF"), rng.randint(1, 12), rng.randint(1, 20)
        bin_location = "" if rng.random() < 0.05 else f"{aisle}-{shelf:02d}-{slot}"
        items.append((f"SKU-{i + 1:04d}", name, bin_location))
    return items


def label_pdf(order_ref: str, tracking: str, recipient: str, items: list[tuple[int, str, str]]) -> bytes:
    content = {
        "package_id": "1" + order_ref[1:],
        "order_id": order_ref,
        "tracking_number": tracking,
        "carrier": "USPS",
        "service": "Ground Advantage",
        "weight": "1.2 lb",
        "sender": ["Dropline Reno", "1 Industrial Way", "Reno, NV 89501", "US"],
        "recipient": [recipient, "22 Oak St", "Apt 4", "Austin, TX 73301", "US", "(+1)213-555-1234"],
        "items": items,
        "buyer_message": "",
    }
    return render("SHIPPING_LABEL", "A6", content)


def batch(orders: int, skus: int = 300, seed: int = 7) -> list[BatchOrder]:
    """`orders` orders of 1-3 lines each, with their A6 sandbox labels."""
    rng = random.Random(seed)
    cat = catalogue(skus, rng)
    start = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    out = []
    for i in range(orders):
        ref = f"5764{rng.randint(10**14, 10**15 - 1)}"
        tracking = f"9400111{i:015d}"
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        picked = rng.sample(cat, rng.choice((1, 1, 1, 2, 2, 3)))
        lines = tuple(PickLine(ref, sku, title, rng.choice((1, 1, 1, 2, 3)), bin_) for sku, title, bin_ in picked)
        label = label_pdf(ref, tracking, name, [(li.quantity, li.seller_sku, li.name) for li in lines])
        out.append(BatchOrder(ref, label, lines, mask(name), start + timedelta(hours=rng.randint(0, 48)), tracking))
    return out
