"""Every platform client reads answers with one parser: msgspec, with Python's parser for what msgspec refuses."""

from __future__ import annotations

import json

import httpx
import pytest

from integrations.responses import response_json


def answer(body: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(200, content=body, headers={"content-type": content_type})


def test_an_answer_reads_as_pythons_parser_reads_it() -> None:
    body = json.dumps({"code": 0, "data": {"orders": [{"id": "576461413038785752", "total": "12.50"}]}}).encode()
    assert response_json(answer(body)) == json.loads(body)


def test_an_integer_beyond_64_bits_stays_exact() -> None:
    read = response_json(answer(b'{"id": 1180591620717411303424}'))
    assert read["id"] == 2**70
    assert isinstance(read["id"], int)


@pytest.mark.parametrize(
    "body",
    [
        b'{"weight": NaN}',  # not JSON, but Python's parser (and so httpx) has always read it
        b'{"weight": 1e400}',  # out of a float's range: Python reads it as infinity
        '{"name": "Zo\u00eb"}'.encode("utf-16"),  # Python's parser detects UTF-16 and UTF-32
    ],
)
def test_what_msgspec_refuses_is_read_as_before(body: bytes) -> None:
    response = answer(body)
    read = response_json(response)
    assert json.dumps(read, sort_keys=True) == json.dumps(response.json(), sort_keys=True)


def test_an_answer_that_is_not_json_raises_value_error_as_before() -> None:
    with pytest.raises(ValueError, match="Expecting value"):
        response_json(answer(b"<html>502 Bad Gateway</html>", "text/html"))
