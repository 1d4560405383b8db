"""The quick-start console: one line per meaningful event. Routine records go to DEBUG; unknown shops are told once."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS
from django.test import Client

from erp.log import RoutineToDebugFilter
from integrations import services
from integrations.tiktok.signing import webhook_signature


def record(name: str, msg: str, args: Any = (), level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


@pytest.fixture
def root_at_info() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    yield
    root.setLevel(level)


def test_routine_beat_and_task_lines_are_demoted_to_debug(root_at_info: None) -> None:
    routine = [
        record("celery.beat", "Scheduler: Sending due task %s (%s)", ("heartbeat", "erp.heartbeat")),
        record("celery.worker.strategy", LOG_RECEIVED, ({"name": "erp.heartbeat", "id": "1"},)),
        record("celery.app.trace", LOG_SUCCESS, ({"name": "erp.heartbeat", "id": "1"},)),
        record("django.server", '"%s" %s %s', ("POST /webhooks/tiktok/ HTTP/1.1", "200", "0")),
    ]
    keep = RoutineToDebugFilter()
    # Given the console at INFO, routine records are not shown, and are DEBUG records should anyone look.
    assert [keep.filter(r) for r in routine] == [False] * 4
    assert {r.levelname for r in routine} == {"DEBUG"}
    # At DEBUG they are there.
    logging.getLogger().setLevel(logging.DEBUG)
    assert keep.filter(record("celery.beat", "Scheduler: Sending due task %s (%s)", ("a", "b")))


def test_meaningful_lines_stay(root_at_info: None) -> None:
    meaningful = [
        record("celery.beat", "beat: Starting..."),
        record("celery.apps.worker", "%s ready.", ("celery@host",)),
        record("celery.app.trace", "Task %(name)s[%(id)s] %(description)s: %(exc)s", level=logging.ERROR),
        record("inventory.push", "stock push %s: %s", ("Shop", "3 listings")),
        record("django.server", '"%s" %s %s', ("GET /labels/batches/ HTTP/1.1", "200", "10")),
        record("django.server", '"%s" %s %s', ("POST /webhooks/tiktok/ HTTP/1.1", "401", "0"), logging.WARNING),
    ]
    keep = RoutineToDebugFilter()
    assert all(keep.filter(r) for r in meaningful)
    assert [r.levelno for r in meaningful] == [logging.INFO] * 2 + [logging.ERROR] + [logging.INFO] * 2 + [
        logging.WARNING
    ]


@pytest.mark.django_db
def test_webhooks_for_a_shop_nobody_connected_are_logged_once(settings: Any, caplog: Any) -> None:
    services._unknown_shops_logged.clear()
    client = Client()

    def notify(notification_id: str, shop_id: str) -> int:
        body = {
            "type": 1,
            "tts_notification_id": notification_id,
            "shop_id": shop_id,
            "timestamp": 1700000000,
            "data": {"order_id": "576486316948490001", "order_status": "CANCEL", "update_time": 1700000000},
        }
        raw = json.dumps(body).encode()
        signature = webhook_signature(settings.TIKTOK_APP_KEY, settings.TIKTOK_APP_SECRET, raw)
        return client.post("/webhooks/tiktok/", raw, content_type="application/json", HTTP_AUTHORIZATION=signature)

    # Given the sandbox notifying, again and again, about two shops no organization connected,
    with caplog.at_level(logging.INFO):
        for number in range(10):
            assert notify(f"73271123930573719{number:02d}", "7495000000000000001").status_code == 200
            assert notify(f"73271123930573729{number:02d}", "7495000000000000002").status_code == 200
    # then the console says so once per shop, and nothing per notification.
    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(shown) == 2, shown
    assert all("unknown shop" in line for line in shown)
