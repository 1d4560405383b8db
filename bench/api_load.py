"""A mixed partner load against /api/v1: what a WMS, a 3PL and a seller's tooling do at once.

    .venv/bin/python bench/api_load.py [--quick] [--rate R] [--duration S] [--orders N] [--web-workers W]

Everything is real and in its own process: PostgreSQL (a fresh database), Redis (a private database: the API's rate
limit, the cache and the broker), the TikTok Shop sandbox, Dropline's web as production runs it (gunicorn on the WSGI
app with DJANGO_ENV=production), a Celery worker as `make run` starts it (it buys the batches' labels and sends the
outbound webhooks), a webhook receiver (an HTTP server in this process that verifies every signature), and locust
driven headless (bench/api_load_locustfile.py) as the partners.

Setup, through Dropline's services: an organization with a TikTok shop connected on the sandbox holding `--orders`
orders of every status (imported), plus a pool of orders awaiting shipment for the label batches the load creates;
200 SKUs with stock in one warehouse; one write API key per 15 req/s of offered load (the API's per-key budget is
1,200/min: partners are many, not one key hammering); a webhook endpoint subscribed to every event, pointing at the
receiver, created through the API as a partner would.

The load (weights in the locustfile): order pages with the dashboard's filters and search (30), order details (30),
stock levels (10), stock adjustments with an Idempotency-Key (15), label batch estimate + creation of 2 orders (3;
the worker then buys their labels) and batch progress (5). Users send at a constant rate (`constant_throughput`), so
the offered rate is `--rate` whatever the latency; statistics are reset once every user has started.

Printed: p50/p95/p99/max latency (ms) overall and per operation, error rate, offered and achieved throughput, the
webhook deliveries received while the load ran and after (signature failures must be 0), labels bought, and the
machine (cores). Targets (issue 16): p95 < 150 ms and 0 errors at 200 req/s for 5 minutes. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, SandboxProcess, WorkerProcess, free_port, use_fresh_database

DATABASE = "dropline_bench_api_load"
REDIS_URL = "redis://127.0.0.1:6379/4"  # this bench's own: nothing else in the repository uses database 4
PER_KEY_RATE = 15  # req/s per API key: under the default budget of 1,200/min (20/s), with room for bursts
PER_USER_RATE = 2.0  # req/s each locust user sends
ORDERS_PER_BATCH = 2
BATCH_SHARE = 3 / 93  # the locustfile's weight of label_batch over the sum of the weights
SKUS = 200


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="50 req/s for 20 s on 1,500 orders: about a minute")
    parser.add_argument("--rate", type=float, default=None, help="offered requests per second (default 200)")
    parser.add_argument("--duration", type=int, default=None, help="seconds of measured load (default 300)")
    parser.add_argument("--orders", type=int, default=None, help="orders in the database (default 20,000)")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn worker processes (4 threads each)")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    rate = args.rate or (50.0 if args.quick else 200.0)
    duration = args.duration or (20 if args.quick else 300)
    orders = args.orders or (1500 if args.quick else 20_000)

    logs = Path(tempfile.mkdtemp(prefix="dropline-bench-api-load-"))
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["CELERY_BROKER_URL"] = REDIS_URL
    os.environ["WEBHOOKS_ALLOW_PRIVATE_NETWORKS"] = "true"  # the receiver listens on 127.0.0.1
    # One encryption key for this process (it stores the store's tokens), the worker and production's web.
    os.environ["FIELD_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # no budget, lock or queue left by an earlier run
    sandbox = SandboxProcess()
    processes: list[Any] = []
    receiver = WebhookReceiver()
    try:
        _point_at(sandbox)
        use_fresh_database(DATABASE)
        batch_pool = math.ceil(rate * duration * BATCH_SHARE * ORDERS_PER_BATCH * 1.2) + 20
        started = time.monotonic()
        config = _seed(sandbox, orders=orders, batch_pool=batch_pool, keys=math.ceil(rate / PER_KEY_RATE))
        setup_seconds = time.monotonic() - started
        web_port = free_port()
        web = subprocess.Popen(
            _web_command(web_port, args.web_workers),
            cwd=ROOT,
            env=_production_env(),
            stdout=(logs / "web.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        processes.append(web)
        base_url = f"http://127.0.0.1:{web_port}"
        _wait_until_up(base_url)
        worker = WorkerProcess(logs / "worker.log")
        processes.append(worker)
        receiver.start()
        endpoint = _subscribe(base_url, config["api_keys"][0], receiver)
        config_path = logs / "locust-config.json"
        users = max(1, math.ceil(rate / PER_USER_RATE))
        config["per_user_rate"] = rate / users
        config_path.write_text(json.dumps(config))
        received_before = len(receiver.deliveries)
        locust_seconds = _run_locust(base_url, config_path, logs, users=users, duration=duration)
        received_during = len(receiver.deliveries) - received_before
        drained = receiver.wait_quiet(quiet_seconds=5, limit_seconds=60)
        stats = _read_stats(logs / "locust_stats.csv")
        result = {
            "bench": "api_load",
            "quick": args.quick,
            "cores": os.cpu_count(),
            "offered_rate": rate,
            "duration_seconds": duration,
            "users": users,
            "api_keys": len(config["api_keys"]),
            "orders_in_database": orders + batch_pool,
            "web": f"gunicorn, {args.web_workers} workers x 4 threads, DJANGO_ENV=production",
            "setup_seconds": round(setup_seconds, 1),
            "locust_seconds": round(locust_seconds, 1),
            **stats["aggregated"],
            "per_operation": stats["per_operation"],
            "webhooks": receiver.figures(received_during=received_during, drained=drained) if endpoint else None,
            "labels": _labels_figures(),
            "targets": {"p95_ms": 150, "error_rate": 0, "rate": 200, "duration_seconds": 300},
        }
        result["target_met"] = bool(
            result["p95_ms"] < 150
            and result["errors"] == 0
            and rate >= 200
            and duration >= 300
            and result["throughput"] >= 0.97 * rate
        )
        if not args.keep_logs:
            print(f"logs: {logs}", file=sys.stderr)
        print(json.dumps(result))
    finally:
        receiver.stop()
        for process in reversed(processes):
            if isinstance(process, WorkerProcess):
                process.stop()
            elif process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        sandbox.stop()


def _point_at(sandbox: SandboxProcess) -> None:
    """Dropline's TikTok addresses: this process's settings, and the environment web and worker inherit."""
    for name, value in (
        ("TIKTOK_API_BASE_URL", sandbox.base_url),
        ("TIKTOK_AUTH_BASE_URL", sandbox.base_url),
        ("TIKTOK_AUTHORIZE_URL", f"{sandbox.base_url}/open/authorize"),
    ):
        os.environ[name] = value


def _say(what: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def _seed(sandbox: SandboxProcess, *, orders: int, batch_pool: int, keys: int) -> dict[str, Any]:
    from django.conf import settings

    from erp import services as erp_services
    from erp.actors import Actor
    from erp.models import User
    from erp.tenancy import organization_scope
    from integrations import services
    from integrations.models import Platform, Store
    from inventory.catalog import store_catalog_sync
    from inventory.models import Sku, Warehouse
    from inventory.services import skus_create_from_listings, stock_receive
    from orders.models import Order
    from orders.services import orders_imported, store_sync

    settings.ORDER_SYNC_TIME_BUDGET_SECONDS = 3600
    seller = sandbox.control("POST", "sellers", name="Load Seller", region="US", shops=1, orders_per_shop=0, seed=7)
    shop_id = seller["shops"][0]["id"]
    sandbox.control("POST", f"shops/{shop_id}/orders", count=orders, seed=7)  # every status, the sandbox's mix
    sandbox.control(
        "POST",
        f"shops/{shop_id}/orders",
        count=batch_pool,
        seed=8,
        status_mix={"AWAITING_SHIPMENT": 1.0},
        shipping_mix={"TIKTOK": 1.0},
    )
    _say(f"sandbox holds {orders + batch_pool} orders")
    owner = User.objects.create_user(email="load@example.com", password="x")
    organization = erp_services.organization_create(name="Load Org", owner=owner)
    person = Actor.for_user(owner)
    session: dict = {}
    url = services.store_connect_start(session=session, organization=organization, platform=Platform.TIKTOK)
    code = sandbox.control("POST", "authorize", seller_id=seller["id"])["code"]
    with services.store_sync_requested.muted():
        services.store_connect_complete(
            session=session,
            organization=organization,
            platform=Platform.TIKTOK,
            actor=Actor.system(),
            code=code,
            state=parse_qs(urlparse(url).query)["state"][0],
        )
    store = Store.unscoped.get(external_id=shop_id)
    api_keys = [  # the "write" preset, plus subscribing the partner's own receiver to webhooks
        erp_services.api_key_create(
            organization=organization, actor=person, name=f"partner {n}", scope="write", scopes=["webhooks:write"]
        )[1]
        for n in range(keys)
    ]
    with organization_scope(organization):
        cursor = None
        while True:  # the catalogue, then SKUs from its seller SKUs (the dashboard's buttons), before the orders
            cursor = store_catalog_sync(store=store, cursor=cursor).next_cursor
            if not cursor:
                break
        skus_create_from_listings(actor=person)
        warehouse = Warehouse.objects.create(name="Load DC")
        codes = [f"LOAD-{n:04d}" for n in range(SKUS)]
        Sku.objects.bulk_create([Sku(organization=organization, code=code, name=f"Load item {code}") for code in codes])
        for sku in Sku.objects.all():
            stock_receive(sku=sku, warehouse=warehouse, quantity=100_000, actor=person, reason="bench stock")
        _say("catalogue read, SKUs made, stock received")
        with orders_imported.muted():  # the load creates batches itself: no routing or auto-buy on the side
            store_sync(store=store)
        _say("orders imported")
        awaiting = Order.objects.filter(store=store, status="AWAITING_SHIPMENT", label_source="platform", is_held=False)
        pool = [str(pk) for pk in awaiting.order_by("placed_at").values_list("pk", flat=True)[:batch_pool]]
        pool_set = set(pool)
        others = [str(pk) for pk in Order.objects.values_list("pk", flat=True)[:5000] if str(pk) not in pool_set]
        names = list(Order.objects.exclude(recipient_name="").values_list("recipient_name", flat=True)[:200])
    return {
        "api_keys": api_keys,
        "order_ids": others,
        "batch_order_ids": pool,
        "orders_per_batch": ORDERS_PER_BATCH,
        "sku_codes": codes,
        "warehouse": str(warehouse.pk),
        "search_terms": sorted({name.split()[-1] for name in names if name.split()}) or ["Smith"],
    }


def _production_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "False",
    }


def _web_command(port: int, workers: int) -> list[str]:
    """Production's web (docker-compose.yml: gunicorn on the WSGI app, 4 threads per worker)."""
    command = [sys.executable, "-m", "gunicorn", "erp.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--threads", "4", "--timeout", "60"]
    if (ROOT / "gunicorn.conf.py").exists():
        command += ["--config", str(ROOT / "gunicorn.conf.py")]
    return command


def _wait_until_up(base_url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the web server did not start")


def _subscribe(base_url: str, api_key: str, receiver: WebhookReceiver) -> dict[str, Any] | None:
    """A webhook endpoint for every event, created through the API as a partner would; None without webhooks."""
    response = httpx.post(
        f"{base_url}/api/v1/webhook-endpoints/",
        json={"url": receiver.url, "events": ["*"], "description": "load test receiver"},
        headers={"Authorization": f"Api-Key {api_key}", "Idempotency-Key": "bench-subscribe"},
        timeout=30,
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    endpoint = response.json()
    receiver.secret = endpoint["secret"]
    return endpoint


def _run_locust(base_url: str, config_path: Path, logs: Path, *, users: int, duration: int) -> float:
    spawn_rate = max(1, users // 3)  # every user started within ~3 s; statistics reset then (--reset-stats)
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "api_load_locustfile.py"), "--headless"]
    command += ["--host", base_url, "-u", str(users), "-r", str(spawn_rate), "-t", f"{duration + 3}s"]
    command += ["--csv", str(logs / "locust"), "--reset-stats", "--only-summary", "--loglevel", "WARNING"]
    started = time.monotonic()
    env = {**os.environ, "BENCH_API_LOAD_CONFIG": str(config_path)}
    with (logs / "locust.log").open("wb") as log:
        subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    return time.monotonic() - started


def _read_stats(path: Path) -> dict[str, Any]:
    rows = list(csv.DictReader(path.open()))

    def number(text: str) -> float | None:  # locust writes N/A for an operation that was never sent
        return None if text == "N/A" else float(text)

    def figures(row: dict[str, str]) -> dict[str, Any]:
        count = int(row["Request Count"])
        failures = int(row["Failure Count"])
        return {
            "requests": count,
            "errors": failures,
            "error_rate": round(failures / count, 5) if count else None,
            "throughput": round(float(row["Requests/s"]), 1),
            "p50_ms": number(row["50%"]),
            "p95_ms": number(row["95%"]),
            "p99_ms": number(row["99%"]),
            "max_ms": round(float(row["Max Response Time"]), 1),
        }

    aggregated = next(row for row in rows if row["Name"] == "Aggregated")
    per_operation = {
        f"{row['Type']} {row['Name']}": figures(row)
        for row in rows
        if row["Name"] != "Aggregated" and int(row["Request Count"])
    }
    return {"aggregated": figures(aggregated), "per_operation": per_operation}


def _labels_figures() -> dict[str, int]:
    from shipping.models import LabelPurchase

    states: dict[str, int] = {}
    for state in LabelPurchase.unscoped.values_list("state", flat=True):
        states[state] = states.get(state, 0) + 1
    return states


class WebhookReceiver:
    """A partner's webhook receiver: verifies `Dropline-Signature` (t=<unix>,v1=<hex HMAC-SHA256 of "t.body">) and
    records each delivery's event id and how long after the event's creation it arrived."""

    def __init__(self) -> None:
        self.secret = ""
        self.deliveries: list[tuple[str, float]] = []  # (event id, seconds since the event was created)
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.record(self.headers.get("Dropline-Signature", ""), body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dropline"
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def record(self, signature_header: str, body: bytes) -> None:
        from datetime import datetime

        parts = [part.split("=", 1) for part in signature_header.split(",") if "=" in part]
        timestamp = next((value for name, value in parts if name == "t"), "")
        expected = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        valid = any(name == "v1" and hmac.compare_digest(value, expected) for name, value in parts)
        event = json.loads(body)
        created = datetime.fromisoformat(event["created"].replace("Z", "+00:00")).timestamp()
        with self._lock:
            if not valid:
                self.bad_signatures += 1
            self.deliveries.append((event["id"], time.time() - created))

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for serve_forever(), forever if it never started
            self.server.shutdown()
        self.server.server_close()

    def wait_quiet(self, *, quiet_seconds: float, limit_seconds: float) -> bool:
        """Wait until no delivery arrived for `quiet_seconds` (the worker has caught up). False at the limit."""
        deadline = time.monotonic() + limit_seconds
        seen, since = len(self.deliveries), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if len(self.deliveries) != seen:
                seen, since = len(self.deliveries), time.monotonic()
            elif time.monotonic() - since >= quiet_seconds:
                return True
        return False

    def figures(self, *, received_during: int, drained: bool) -> dict[str, Any]:
        lags = sorted(lag for _, lag in self.deliveries)
        ids = [event_id for event_id, _ in self.deliveries]
        return {
            "received": len(ids),
            "received_while_loaded": received_during,
            "distinct_events": len(set(ids)),
            "bad_signatures": self.bad_signatures,
            "caught_up_after_load": drained,
            "lag_p50_s": round(statistics.median(lags), 2) if lags else None,
            "lag_p95_s": round(lags[int(0.95 * (len(lags) - 1))], 2) if lags else None,
        }


if __name__ == "__main__":
    main()
