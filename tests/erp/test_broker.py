"""The embedded default's broker (`make run`): settings that keep tasks flowing, and messages that appear whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from kombu import Connection
from kombu.transport import filesystem
from kombu.utils.json import dumps as kombu_dumps

from erp.broker import FilesystemTransport


def embedded_celery_settings(var_dir: Path) -> dict[str, Any]:
    """What the worker of `make run` gets: local settings, no REDIS_URL, a var dir of its own."""
    script = (
        "import json, django; django.setup()\n"
        "from erp.celery import app\n"
        "with app.connection_for_write() as connection:\n"
        "    transport = connection.transport\n"
        "    print(json.dumps({'transport': type(transport).__module__ + '.' + type(transport).__name__,\n"
        "        'polling_interval': transport.polling_interval,\n"
        "        'prefetch_multiplier': app.conf.worker_prefetch_multiplier,\n"
        "        'acks_late': app.conf.task_acks_late}))\n"
    )
    drop = ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL", "CELERY_FILESYSTEM_POLLING_INTERVAL")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env |= {"DJANGO_SETTINGS_MODULE": "erp.settings.local", "DROPLINE_VAR_DIR": str(var_dir)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_embedded_worker_polls_the_filesystem_broker_often(tmp_path: Path) -> None:
    # Given make run's environment, when its worker connects to the broker,
    conf = embedded_celery_settings(tmp_path)
    # then it uses Dropline's filesystem transport and looks for work every 50 ms, not kombu's 1 s (a second between
    # 20 ms tasks), and keeps the delivery guarantees of every mode.
    assert conf["transport"] == "erp.broker.FilesystemTransport"
    assert conf["polling_interval"] == pytest.approx(0.05)
    assert conf["prefetch_multiplier"] == 1
    assert conf["acks_late"] is True
    assert (tmp_path / "celery-broker").is_dir()  # under the var dir it was given, not the checkout's var/


def test_a_message_being_written_is_not_taken_half_written(tmp_path: Path) -> None:
    # kombu's own filesystem transport fails this: the worker takes the empty file and stops on its JSONDecodeError.
    transport = FilesystemTransport
    folder = tmp_path / "broker"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "processed_folder": str(tmp_path)}
    producer = Connection("filesystem://", transport=transport, transport_options=options)
    consumer = Connection("filesystem://", transport=transport, transport_options=options)
    taken_meanwhile: list[object] = []

    def serialize_while_a_worker_polls(payload: object) -> str:
        # Given a worker that lists the folder while the producer is still writing the message,
        try:
            taken_meanwhile.append(consumer.default_channel._get("labels"))
        except filesystem.Empty:
            pass
        except ValueError as error:  # kombu's own transport: the empty file it took does not decode
            taken_meanwhile.append(error)
        return kombu_dumps(payload)

    module = sys.modules[transport.Channel._put.__module__]
    with mock.patch.object(module, "dumps", serialize_while_a_worker_polls):
        producer.default_channel._put("labels", {"purchase_id": "p-1"})
    # then the worker took nothing half-written, and the whole message is there for its next poll.
    assert taken_meanwhile == []
    assert consumer.default_channel._get("labels") == {"purchase_id": "p-1"}
    producer.release()
    consumer.release()
