"""Warehouse documents of a big label batch: the merged 4x6 label PDF plus the pick list, for N orders (default 1,000).

    .venv/bin/python bench/label_documents.py [--quick] [--orders N] [--out DIR]

Needs no database and no server: the A6 labels are drawn in-process by the TikTok sandbox's own renderer
(`sandboxes.tiktok.documents.render`), 1-3 SKUs per order out of 300 SKUs with bins, before the clock starts.
Timed: `picking_order` + `labels_merge(page_size="4x6")` + `pick_list_pdf`. Targets: <= 3 s wall and <= 300 MB peak.

The timed part runs twice: once plain for the wall time, once under tracemalloc for the Python heap peak
(tracemalloc slows pypdf down several times, so its run is not timed). ru_maxrss is the whole process's peak RSS,
label generation included. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The documents name times in the organization's zone (erp.clock), which reads Django's settings and app registry;
# no database is opened.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings.local")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")

import django  # noqa: E402

django.setup()

from pypdf import PdfReader  # noqa: E402

from shipping.documents.batch import BatchOrder, picking_order  # noqa: E402
from shipping.documents.labels import labels_merge  # noqa: E402
from shipping.documents.pick_list import pick_list_pdf, pick_list_rows  # noqa: E402
from tests.shipping.batches import batch  # noqa: E402

TARGET_SECONDS = 3.0
TARGET_MB = 300.0


def documents(orders: list[BatchOrder]) -> tuple[bytes, bytes, dict[str, float]]:
    """The timed part; returns the two PDFs and the seconds each step took."""
    t0 = time.perf_counter()
    stack = picking_order(orders, sort="bin")
    t1 = time.perf_counter()
    labels = labels_merge(stack, page_size="4x6")
    t2 = time.perf_counter()
    pick = pick_list_pdf(
        stack, batch_ref="BENCH-1", warehouse_name="Reno Main", printed_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    )
    t3 = time.perf_counter()
    return labels, pick, {"picking_order": t1 - t0, "labels_merge": t2 - t1, "pick_list_pdf": t3 - t2}


def walk_backs(orders: list[BatchOrder], row_order: str) -> int:
    """How often the picker walks back to an earlier aisle when following the pick list's rows."""
    aisles = [r.bins[0].split("-")[0] for r in pick_list_rows(orders, row_order=row_order) if r.bins]  # type: ignore[arg-type]
    return sum(1 for a, b in itertools.pairwise(aisles) if b < a)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="200 orders: a few seconds")
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write labels.pdf and pick-list.pdf here")
    args = parser.parse_args()
    count = args.orders or (200 if args.quick else 1000)

    started = time.perf_counter()
    orders = batch(count, skus=300, seed=11)
    generated = time.perf_counter() - started
    print(f"generated {count} sandbox A6 labels in {generated:.2f} s")

    documents(orders[:5])  # warm-up: imports, font metrics
    started = time.perf_counter()
    labels, pick, steps = documents(orders)
    wall = time.perf_counter() - started
    stack = picking_order(orders, sort="bin")

    tracemalloc.start()
    documents(orders)
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    label_pages = len(PdfReader(BytesIO(labels)).pages)
    pick_pages = len(PdfReader(BytesIO(pick)).pages)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "labels.pdf").write_bytes(labels)
        (args.out / "pick-list.pdf").write_bytes(pick)

    result = {
        "bench": "label_documents",
        "orders": count,
        "units": sum(line.quantity for o in orders for line in o.lines),
        "skus": len(pick_list_rows(orders)),
        "seconds": round(wall, 3),
        "step_seconds": {name: round(seconds, 3) for name, seconds in steps.items()},
        "peak_rss_mb": round(rss_mb, 1),
        "tracemalloc_peak_mb": round(traced_peak / 2**20, 1),
        "labels_pdf_mb": round(len(labels) / 2**20, 2),
        "pick_list_pdf_kb": round(len(pick) / 1024, 1),
        "label_pages": label_pages,
        "pick_list_pages": pick_pages,
        "pick_list_walk_backs": {"stack": walk_backs(stack, "stack"), "bin": walk_backs(stack, "bin")},
        "target_seconds": TARGET_SECONDS,
        "target_mb": TARGET_MB,
        "ok": wall <= TARGET_SECONDS and rss_mb <= TARGET_MB and label_pages == count,
    }
    print(
        f"{count} orders: labels {label_pages} pages {result['labels_pdf_mb']} MB, pick list {pick_pages} pages; "
        f"{wall:.2f} s (target {TARGET_SECONDS} s), peak RSS {rss_mb:.0f} MB, "
        f"traced peak {result['tracemalloc_peak_mb']} MB (target {TARGET_MB:.0f} MB)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
