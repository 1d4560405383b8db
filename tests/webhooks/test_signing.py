"""The Dropline-Signature header, checked with the snippet docs/webhooks.md gives receivers."""

from __future__ import annotations

import time

from tests.webhooks.signing_doc import documented_verify
from webhooks.signing import signature_header, signature_verify

BODY = b'{"id":"evt_1","type":"order.held","data":{"object":{"id":"1"}}}'


def test_a_signature_verifies_with_the_documented_snippet_and_our_own_check() -> None:
    verify = documented_verify()
    now = int(time.time())
    header = signature_header(["whsec_one"], now, BODY)
    assert header.startswith(f"t={now},v1=")
    assert verify("whsec_one", header, BODY)
    assert signature_verify(secret="whsec_one", header=header, body=BODY)


def test_a_tampered_body_a_wrong_secret_or_a_malformed_header_fails() -> None:
    verify = documented_verify()
    header = signature_header(["whsec_one"], int(time.time()), BODY)
    assert not verify("whsec_one", header, BODY.replace(b"held", b"released"))
    assert not verify("whsec_two", header, BODY)
    assert not verify("whsec_one", header.replace("t=", "x="), BODY)
    assert not verify("whsec_one", "", BODY)
    assert not signature_verify(secret="whsec_two", header=header, body=BODY)


def test_the_replay_window_is_five_minutes() -> None:
    verify = documented_verify()
    now = int(time.time())
    fresh = signature_header(["whsec_one"], now - 290, BODY)
    stale = signature_header(["whsec_one"], now - 310, BODY)
    future = signature_header(["whsec_one"], now + 310, BODY)
    assert verify("whsec_one", fresh, BODY)
    assert not verify("whsec_one", stale, BODY)
    assert not verify("whsec_one", future, BODY)
    assert signature_verify(secret="whsec_one", header=fresh, body=BODY)
    assert not signature_verify(secret="whsec_one", header=stale, body=BODY)


def test_during_rotation_both_secrets_verify() -> None:
    verify = documented_verify()
    header = signature_header(["whsec_new", "whsec_old"], int(time.time()), BODY)
    assert header.count("v1=") == 2
    assert verify("whsec_new", header, BODY)
    assert verify("whsec_old", header, BODY)
    assert not verify("whsec_other", header, BODY)
