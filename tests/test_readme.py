"""The README documents every setting the code reads and both commands, and CI calls the README's test command."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
README = (ROOT / "README.md").read_text()


def settings_read_by_the_code() -> set[str]:
    names = set()
    sources = [
        *ROOT.glob("erp/settings/*.py"),
        *ROOT.glob("sandboxes/tiktok/config.py"),
        *ROOT.glob("integrations/**/config.py"),
    ]
    for path in sources:
        text = path.read_text()
        names |= set(re.findall(r"env(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]+)\"", text))
        names |= set(re.findall(r"_required\(\"([A-Z][A-Z0-9_]+)\"\)", text))
        names |= set(re.findall(r"environ(?:\.get)?\(\s*\"([A-Z][A-Z0-9_]+)\"", text))
        names |= set(re.findall(r"getattr\(settings,\s*\"([A-Z][A-Z0-9_]+)\"", text))
    return names


def test_every_setting_is_documented() -> None:
    names = settings_read_by_the_code()
    assert len(names) > 20
    missing = sorted(name for name in names if f"`{name}`" not in README)
    assert not missing, f"README's settings table lacks: {missing}"


def test_the_two_commands_and_ci() -> None:
    assert "make run" in README
    assert "make test" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    assert "DROPLINE_TEST_STRICT=1" in ci
