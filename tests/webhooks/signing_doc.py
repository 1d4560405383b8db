"""The signature check exactly as docs/webhooks.md shows it: its first python block, executed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings


def documented_verify() -> Callable[..., bool]:
    text = (Path(settings.BASE_DIR) / "docs" / "webhooks.md").read_text()
    section = text.split("## Verifying signatures", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "docs/webhooks.md lost its verification snippet"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), "docs/webhooks.md", "exec"), namespace)  # noqa: S102  (our own documentation)
    return namespace["verify"]
