"""The dashboard's Content-Security-Policy (docs/adr/0013-security-hardening.md), checked without a browser: the
header on every page, and no template that the policy would break (the Chromium walk in
tests/browser/test_content_security_policy.py proves the pages it visits; this covers every template)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

TEMPLATES = sorted(Path(settings.BASE_DIR, "templates").rglob("*.html"))
INLINE_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.IGNORECASE)
HX_ON = re.compile(r"\shx-on[:-][\w:-]*\s*=")
INLINE_BLOCK = re.compile(r"<(script|style)\b([^>]*)>", re.IGNORECASE)


def test_there_are_templates_to_check() -> None:
    assert len(TEMPLATES) > 50


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_no_template_relies_on_what_the_policy_blocks(template: Path) -> None:
    text = template.read_text()
    assert not INLINE_HANDLER.search(text), "inline event handler: use a data attribute and static/js/dropline.js"
    assert "javascript:" not in text
    assert not HX_ON.search(text), "hx-on needs eval, which the policy forbids: listen in a script instead"
    for tag, attributes in INLINE_BLOCK.findall(text):
        if "src=" in attributes:
            continue  # a script file: allowed from 'self'
        assert 'nonce="{{ CSP_NONCE }}"' in attributes, f"inline <{tag}> without the nonce"


@pytest.mark.django_db
def test_pages_carry_a_policy_without_inline_scripts_or_eval(tenant: Any) -> None:
    for url in ("/", "/orders/", "/shipping/compliance/", "/accounts/login/"):
        policy = tenant.client.get(url, follow=True)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"].startswith("'self'")
        assert "unsafe" not in directives["script-src"]
        assert "unsafe" not in directives["style-src"]
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-eval" not in policy


@pytest.mark.django_db
def test_a_nonce_is_in_the_header_when_a_page_uses_one(tenant: Any) -> None:
    response = tenant.client.get("/orders/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in response.content.decode()
