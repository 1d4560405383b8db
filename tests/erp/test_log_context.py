"""Structured logs (erp/log.py, docs/adr/0022-metrics-and-logs.md): every line carries the request id, the
organization, the task and the store and order where known; LOG_FORMAT=json writes one JSON object per line; the
response echoes X-Request-ID; the redacting filter masks what looks like a secret."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from erp.log import JsonFormatter, OrganizationLogFilter, SecretRedactingFilter, log_context, redact
from erp.tasks import task
from erp.tenancy import organization_scope

probe_log = logging.getLogger("tests.log_probe")


@task(name="tests.log_probe", tenant=False)
def log_probe(*, store_id: str, order_id: str) -> None:
    probe_log.warning("probing the task's context")


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The root logger also writes through the production console's filters and JSON formatter into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(OrganizationLogFilter())
    handler.addFilter(SecretRedactingFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db
def test_a_sane_request_id_is_kept_echoed_and_on_every_line_the_request_logs(json_lines: io.StringIO) -> None:
    response = Client().post(
        "/webhooks/tiktok/", b"{}", content_type="application/json", HTTP_X_REQUEST_ID="lb-7f3e.42"
    )
    assert response.status_code == 401
    assert response["X-Request-ID"] == "lb-7f3e.42"
    lines = [line for line in parsed(json_lines) if line["message"].startswith("webhook refused")]
    assert len(lines) == 1
    assert lines[0]["request_id"] == "lb-7f3e.42"
    assert lines[0]["level"] == "WARNING"
    assert lines[0]["logger"] == "integrations.views"
    assert set(lines[0]) >= {"time", "organization", "store", "order", "task", "task_id"}


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["", "has space", "x" * 200, "line\nbreak", "<script>"])
def test_anything_but_a_plain_id_is_replaced_by_a_new_one(given: str) -> None:
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=given)
    echoed = response["X-Request-ID"]
    assert echoed != given
    assert len(echoed) == 32
    assert echoed.isalnum()


@pytest.mark.django_db
def test_a_task_logs_its_name_id_store_order_and_organization(json_lines: io.StringIO, tenant: Any) -> None:
    with organization_scope(tenant.organization):
        result = log_probe.apply(kwargs={"store_id": "store-1", "order_id": "order-9"})
    line = next(line for line in parsed(json_lines) if line["message"] == "probing the task's context")
    assert (line["task"], line["task_id"]) == ("tests.log_probe", result.id)
    assert (line["store"], line["order"]) == ("store-1", "order-9")
    assert line["organization"] == str(tenant.organization.pk)


def test_log_context_nests_and_restores_and_refuses_unknown_fields(json_lines: io.StringIO) -> None:
    log = logging.getLogger("tests.nesting")
    with log_context(store="s1"):
        with log_context(order="o1", store="s2"):
            log.warning("inner")
        log.warning("outer")
    log.warning("none")
    inner, outer, none = (next(x for x in parsed(json_lines) if x["message"] == m) for m in ("inner", "outer", "none"))
    assert (inner["store"], inner["order"]) == ("s2", "o1")
    assert (outer["store"], outer["order"]) == ("s1", None)
    assert (none["store"], none["order"]) == (None, None)
    with pytest.raises(TypeError, match="customer"), log_context(customer="c1"):
        pass


def test_text_lines_name_only_the_context_that_is_known() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    with log_context(request_id="r1", order="o1"):
        OrganizationLogFilter().filter(record)
    line = logging.Formatter(settings.LOGGING["formatters"]["line"]["format"]).format(record)
    assert line.endswith("x org=- request_id=r1 order=o1 hello")


def test_log_format_json_configures_the_console_for_json() -> None:
    # A fresh process: LOGGING is configured once, at start-up, from LOG_FORMAT.
    code = (
        "import django, logging; django.setup(); logging.getLogger('probe').warning('access_token=%s', 'abcdef123456')"
    )
    env = {**os.environ, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "erp.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert (line["logger"], line["level"]) == ("probe", "WARNING")
    assert line["message"] == "access_token=[redacted]"
    assert "abcdef123456" not in done.stderr


def test_an_unknown_log_format_is_refused_at_start_up() -> None:
    env = {**os.environ, "LOG_FORMAT": "xml", "DJANGO_SETTINGS_MODULE": "erp.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "LOG_FORMAT='xml'" in done.stderr


# ------------------------------------------------------------------------------------------------ redaction
@pytest.mark.parametrize(
    ("message", "secret"),
    [
        ("token exchange: access_token=ROW3xk2Qp9a&refresh_token=RT9zzq81", "ROW3xk2Qp9a"),
        ("token exchange: access_token=ROW3xk2Qp9a&refresh_token=RT9zzq81", "RT9zzq81"),
        ('answer {"access_token": "shpat_0123456789abcdef0123", "scope": "read_orders"}', "shpat_0123456789abcdef0123"),
        ("headers {'X-Shopify-Hmac-Sha256': 'q1w2e3r4t5y6u7i8o9p0=='}", "q1w2e3r4t5y6u7i8o9p0=="),
        ("GET /api?app_key=6drop&sign=9f86d081884c7d659a2f&timestamp=1", "9f86d081884c7d659a2f"),
        ("Authorization: Bearer sk_live_abcdefgh12345", "sk_live_abcdefgh12345"),
        ("client_secret=hush-hush-hush", "hush-hush-hush"),
        ("a stray shpua_00112233445566778899aabb in a message", "shpua_00112233445566778899aabb"),
        ("webhook secret: whsec_9f8e7d6c5b4a", "whsec_9f8e7d6c5b4a"),
    ],
)
def test_what_looks_like_a_secret_is_masked(message: str, secret: str) -> None:
    cleaned = redact(message)
    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_configured_secrets_are_masked_by_value_and_ordinary_lines_are_left_alone() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "signed with %s", (settings.TIKTOK_APP_SECRET,), None)
    SecretRedactingFilter().filter(record)
    assert record.getMessage() == "signed with [redacted]"
    ordinary = "tiktok POST /order/search failed attempt 2/5: code=36009003 request_id=2026120611"
    assert redact(ordinary) == ordinary
