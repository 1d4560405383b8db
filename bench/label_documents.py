"""Warehouse documents of a big label batch: the merged 4x6 label PDF plus the pick list, for N orders (default 5,000).

    .venv/bin/python bench/label_documents.py [--quick] [--orders N] [--out DIR]

Needs no database and no server: the A6 labels are drawn in-process by the TikTok sandbox's own renderer
(`sandboxes.tiktok.documents.render`), 1-3 SKUs per order out of 300 SKUs with bins, before the clock starts.
Timed: `picking_order` + `labels_merge(page_size="4x6")` + `pick_list_pdf`, as a download builds them (the label PDF
returned as bytes). Targets (issue 17): <= 2.5 s wall and <= 200 MB peak RSS at 5,000 orders, with the merge's own
memory flat in the number of labels.

Memory, three figures:
- `peak_rss_mb`: the whole process's peak RSS (ru_maxrss), label generation and the returned PDFs included. Generating
  5,000 sandbox labels alone peaks at ~106 MB (the 5,000 labels are ~12 MB of PDF bytes held as `BatchOrder`s, as a
  real download holds them), so this stays an honest whole-process figure against the 200 MB target.
- `merge_traced_peak_mb` at two sizes (N/5 and N labels): the Python heap peak (tracemalloc) of `labels_merge_to`
  writing to a file on disk, i.e. the merge's own working memory without the output. Flat means it does not grow with
  the labels: `merge_growth_kb_per_1000_labels` is the slope between the two sizes (what stays per label is an 8-byte
  file offset per object and an object number per page).
- `documents_traced_peak_mb`: the heap peak of the timed part at N, the returned label PDF (~1.7 MB per 1,000
  labels) included; `pick_list_traced_peak_mb` the pick list's alone, at both sizes.
tracemalloc slows pypdf down several times, so its runs are not timed. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
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
from shipping.documents.labels import labels_merge, labels_merge_to  # noqa: E402
from shipping.documents.pick_list import pick_list_pdf, pick_list_rows  # noqa: E402
from tests.shipping.batches import batch  # noqa: E402

TARGET_SECONDS = 2.5
TARGET_MB = 200.0
FLAT_KB_PER_1000 = 256.0  # the merge's memory may grow by at most this per 1,000 labels (offsets and page numbers)


def documents(orders: list[BatchOrder]) -> tuple[bytes, bytes, dict[str, float]]:
    """The timed part; returns the two PDFs and the seconds each step took."""
    t0 = time.perf_counter()
    stack = picking_order(orders, sort="bin")
    t1 = time.perf_counter()
    labels = labels_merge(stack, page_size="4x6")
    t2 = time.perf_counter()
    pick = pick_list(stack)
    t3 = time.perf_counter()
    return labels, pick, {"picking_order": t1 - t0, "labels_merge": t2 - t1, "pick_list_pdf": t3 - t2}


def traced_peak_mb(run: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def merge_to_disk(stack: list[BatchOrder]) -> None:
    with tempfile.TemporaryFile() as out:
        labels_merge_to(out, stack, page_size="4x6")


def pick_list(stack: list[BatchOrder]) -> bytes:
    return pick_list_pdf(
        stack, batch_ref="BENCH-1", warehouse_name="Reno Main", printed_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    )


def walk_backs(orders: list[BatchOrder], row_order: str) -> int:
    """How often the picker walks back to an earlier aisle when following the pick list's rows."""
    aisles = [r.bins[0].split("-")[0] for r in pick_list_rows(orders, row_order=row_order) if r.bins]  # type: ignore[arg-type]
    return sum(1 for a, b in itertools.pairwise(aisles) if b < a)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="500 orders: well under a minute")
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write labels.pdf and pick-list.pdf here")
    args = parser.parse_args()
    count = args.orders or (500 if args.quick else 5000)
    small = max(count // 5, 1)

    started = time.perf_counter()
    orders = batch(count, skus=300, seed=11)
    generated = time.perf_counter() - started
    print(f"generated {count} sandbox A6 labels in {generated:.2f} s")

    documents(orders[:5])  # warm-up: imports, font metrics
    started, cpu_started = time.perf_counter(), time.process_time()
    labels, pick, steps = documents(orders)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    stack = picking_order(orders, sort="bin")
    small_stack = picking_order(orders[:small], sort="bin")

    merge_peaks = {
        size: traced_peak_mb(lambda s=s: merge_to_disk(s)) for size, s in ((small, small_stack), (count, stack))
    }
    growth_kb = (merge_peaks[count] - merge_peaks[small]) * 1024 / max((count - small) / 1000, 1e-9)
    pick_peaks = {size: traced_peak_mb(lambda s=s: pick_list(s)) for size, s in ((small, small_stack), (count, stack))}
    documents_peak = traced_peak_mb(lambda: documents(orders))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    label_pages = len(PdfReader(BytesIO(labels)).pages)
    pick_pages = len(PdfReader(BytesIO(pick)).pages)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "labels.pdf").write_bytes(labels)
        (args.out / "pick-list.pdf").write_bytes(pick)

    flat = growth_kb <= FLAT_KB_PER_1000
    result = {
        "bench": "label_documents",
        "orders": count,
        "units": sum(line.quantity for o in orders for line in o.lines),
        "skus": len(pick_list_rows(orders)),
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "step_seconds": {name: round(seconds, 3) for name, seconds in steps.items()},
        "peak_rss_mb": round(rss_mb, 1),
        "merge_traced_peak_mb": {str(size): round(peak, 2) for size, peak in merge_peaks.items()},
        "merge_growth_kb_per_1000_labels": round(growth_kb, 1),
        "pick_list_traced_peak_mb": {str(size): round(peak, 2) for size, peak in pick_peaks.items()},
        "documents_traced_peak_mb": round(documents_peak, 1),
        "labels_pdf_mb": round(len(labels) / 2**20, 2),
        "pick_list_pdf_kb": round(len(pick) / 1024, 1),
        "label_pages": label_pages,
        "pick_list_pages": pick_pages,
        "pick_list_walk_backs": {"stack": walk_backs(stack, "stack"), "bin": walk_backs(stack, "bin")},
        "target_seconds": TARGET_SECONDS,
        "target_mb": TARGET_MB,
        "target_flat_kb_per_1000_labels": FLAT_KB_PER_1000,
        "flat": flat,
        "ok": wall <= TARGET_SECONDS and rss_mb <= TARGET_MB and flat and label_pages == count,
    }
    print(
        f"{count} orders: labels {label_pages} pages {result['labels_pdf_mb']} MB, pick list {pick_pages} pages; "
        f"{wall:.2f} s (target {TARGET_SECONDS} s), peak RSS {rss_mb:.0f} MB (target {TARGET_MB:.0f} MB); "
        f"merge heap peak {merge_peaks[small]:.2f} MB at {small} labels, {merge_peaks[count]:.2f} MB at {count} "
        f"({growth_kb:.0f} KB per 1,000 labels: {'flat' if flat else 'NOT flat'})"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
