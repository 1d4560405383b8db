"""Reading a platform's HTTP answers: one parser for every client."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

_decoder = msgspec.json.Decoder()


def response_json(response: httpx.Response) -> Any:
    """The answer's JSON body. Raises ValueError when it is not JSON, as `httpx.Response.json` does.

    msgspec reads a 320 KB page of 100 TikTok orders in under 2 ms, Python's parser in about 3 (more with threads
    waiting on it): a sync reads its pages one after another, so that is much of what separates a re-sync from the
    platform's ceiling (docs/adr/0033). Like Python's parser, and unlike orjson, it keeps an integer beyond 64 bits
    exact instead of turning it into a float. What it refuses but Python's parser reads (NaN, 1e400, a charset other
    than UTF-8) is read by Python's parser, so no answer reads differently than it did."""
    try:
        return _decoder.decode(response.content)
    except msgspec.DecodeError:
        return response.json()
