"""The partner load of bench/api_load.py, as locust users (run headless by that script, not on its own).

Each simulated partner sends a constant number of requests per second (`constant_throughput`), so the offered rate is
users × per-user rate whatever the latency: an open-ish load, not one that slows down when the server does. The mix
(weights below) is what a WMS / 3PL / seller tool does against /api/v1: read order pages and order details, read
stock, post stock changes, quote and create small label batches and poll them. Configuration (API keys, ids) comes
from the JSON file named by BENCH_API_LOAD_CONFIG, written by the setup in bench/api_load.py.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from typing import Any

from locust import HttpUser, constant_throughput, task

with open(os.environ["BENCH_API_LOAD_CONFIG"]) as config_file:
    CONFIG: dict[str, Any] = json.load(config_file)

_keys = itertools.cycle(CONFIG["api_keys"])
_batch_orders = iter(CONFIG["batch_order_ids"])  # each order is put in one batch only: gevent, one process
_batches: list[str] = []
STATUSES = ["AWAITING_SHIPMENT", "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "CANCELLED"]


class Partner(HttpUser):
    wait_time = constant_throughput(CONFIG["per_user_rate"])

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Api-Key {next(_keys)}"
        self.client.headers["Accept"] = "application/json"

    @task(30)
    def order_list(self) -> None:
        params: dict[str, Any] = {"page_size": 50}
        choice = random.random()
        if choice < 0.4:
            params["status"] = random.choice(STATUSES)
        elif choice < 0.55:
            params["q"] = random.choice(CONFIG["search_terms"])
        response = self.client.get("/api/v1/orders/", params=params, name="/api/v1/orders/ (list)")
        if response.ok and random.random() < 0.3 and response.json().get("next"):  # the next page, as a poller does
            self.client.get(response.json()["next"], name="/api/v1/orders/ (next page)")

    @task(30)
    def order_detail(self) -> None:
        self.client.get(f"/api/v1/orders/{random.choice(CONFIG['order_ids'])}/", name="/api/v1/orders/{id}/")

    @task(10)
    def stock_levels(self) -> None:
        self.client.get("/api/v1/stock-levels/", params={"page_size": 100}, name="/api/v1/stock-levels/")

    @task(15)
    def stock_change(self) -> None:
        body = {
            "kind": "adjustment",
            "sku": random.choice(CONFIG["sku_codes"]),
            "warehouse": CONFIG["warehouse"],
            "quantity": random.choice([-1, 1, 2]),
            "reason": "cycle count correction (load test)",
        }
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        self.client.post("/api/v1/stock-movements/", json=body, headers=headers, name="/api/v1/stock-movements/")

    @task(3)
    def label_batch(self) -> None:
        orders = list(itertools.islice(_batch_orders, CONFIG["orders_per_batch"]))
        if not orders:  # the pool is used up: the rest of the run reads batches instead
            self.batch_progress()
            return
        body = {"orders": orders}
        self.client.post("/api/v1/label-batches/estimate/", json=body, name="/api/v1/label-batches/estimate/")
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        with self.client.post(
            "/api/v1/label-batches/", json=body, headers=headers, name="/api/v1/label-batches/", catch_response=True
        ) as response:
            if response.status_code == 201:
                _batches.append(response.json()["id"])
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:300]}")

    @task(5)
    def batch_progress(self) -> None:
        if _batches:
            self.client.get(f"/api/v1/label-batches/{random.choice(_batches)}/", name="/api/v1/label-batches/{id}/")
        else:
            self.client.get("/api/v1/label-batches/", name="/api/v1/label-batches/")
