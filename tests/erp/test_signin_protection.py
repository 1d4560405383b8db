"""Sign-in protection (docs/adr/0013-security-hardening.md): lockout per account and per address with django-axes,
the owner's unlock link, password-reset budgets, and sign-up/reset pages that do not tell who has an account."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from erp.models import Organization, User

pytestmark = pytest.mark.django_db
PASSWORD = "Shipping-labels-2026"


@pytest.fixture(autouse=True)
def _fresh_budgets() -> Any:
    cache.clear()  # the password-reset budgets live in the cache, which outlives a test's transaction
    yield
    cache.clear()


@pytest.fixture
def maya(db: None) -> User:
    return User.objects.create_user(email="maya@example.com", password=PASSWORD)


def sign_in(client: Client, password: str, email: str = "maya@example.com", ip: str = "203.0.113.7") -> Any:
    return client.post("/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_the_41st_attempt_is_refused_even_with_the_right_password(maya: User) -> None:
    client = Client()
    for attempt in range(40):
        response = sign_in(client, f"wrong-{attempt}")
        assert response.status_code in (200, 429)
    assert [m.to for m in mail.outbox] == [["maya@example.com"]]  # the owner heard at the 40th

    response = sign_in(client, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    text = response.content.decode()
    assert re.search(r"Too many sign-in attempts\. Try again in \d+ minutes", text)
    assert "unlock link we emailed" in text
    # Another address, the right password: still refused, the account is what is locked.
    assert sign_in(Client(), PASSWORD, ip="198.51.100.1").status_code == 429


def test_39_failures_then_the_right_password_signs_in(maya: User) -> None:
    client = Client()
    for attempt in range(39):
        assert sign_in(client, f"wrong-{attempt}").status_code == 200
    assert mail.outbox == []
    response = sign_in(client, PASSWORD)
    assert response.status_code == 302
    assert AccessAttempt.objects.filter(username="maya@example.com").count() == 0  # success resets the count


def test_case_variants_of_the_email_count_as_one_account(maya: User) -> None:
    for attempt in range(40):
        sign_in(Client(), f"wrong-{attempt}", email="Maya@Example.com" if attempt % 2 else "maya@example.com")
    assert sign_in(Client(), PASSWORD).status_code == 429


def test_the_lockout_passes_after_the_cool_off(maya: User, settings: Any) -> None:
    for attempt in range(40):
        sign_in(Client(), f"wrong-{attempt}")
    assert sign_in(Client(), PASSWORD).status_code == 429
    # Move the recorded failures past the cool-off window (30 minutes).
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert sign_in(Client(), PASSWORD).status_code == 302


def test_the_owner_unlocks_with_the_emailed_link_once(maya: User) -> None:
    for attempt in range(40):
        sign_in(Client(), f"wrong-{attempt}", ip=f"203.0.113.{attempt % 5}")
    assert len(mail.outbox) == 1  # once per lockout, not once per refused attempt
    sign_in(Client(), "still-wrong")
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "locked for 30 minutes" in body
    path = re.search(r"http://[^/\s]+(/accounts/unlock/\S+/)", body).group(1)

    page = Client().get(path)  # a mail scanner opening the link does not use it up
    assert page.status_code == 200
    assert b"Unlock my account" in page.content
    assert Client().get(path).status_code == 200

    response = Client().post(path)
    assert response.status_code == 302
    assert sign_in(Client(), PASSWORD).status_code == 302

    again = Client().post(path)  # one use
    assert again.status_code == 410
    assert b"no longer works" in again.content


def test_an_unlock_link_from_an_earlier_lockout_does_not_unlock_a_later_one(maya: User) -> None:
    for attempt in range(40):
        sign_in(Client(), f"wrong-{attempt}")
    first_link = re.search(r"(/accounts/unlock/\S+/)", mail.outbox[0].body).group(1)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    AccessAttempt.objects.all().delete()  # the first lockout passed and was cleaned up
    for attempt in range(40):
        sign_in(Client(), f"again-{attempt}")
    assert Client().post(first_link).status_code == 410
    assert sign_in(Client(), PASSWORD).status_code == 429


def test_a_forged_or_expired_unlock_link_is_refused(maya: User, settings: Any) -> None:
    for attempt in range(40):
        sign_in(Client(), f"wrong-{attempt}")
    path = re.search(r"(/accounts/unlock/\S+/)", mail.outbox[0].body).group(1)
    assert Client().post(path[:-3] + "xx/").status_code == 410
    settings.ACCOUNT_UNLOCK_LINK_MAX_AGE_HOURS = 0
    assert Client().post(path).status_code == 410
    assert sign_in(Client(), PASSWORD).status_code == 429


def test_one_address_is_locked_after_its_own_higher_limit(maya: User, settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMITS = {"username": 40, "ip_address": 60}
    for attempt in range(59):  # spread over many accounts: none reaches 40
        response = sign_in(Client(), "wrong", email=f"guess-{attempt}@example.com", ip="192.0.2.9")
        assert response.status_code == 200
    assert sign_in(Client(), "wrong", email="guess-x@example.com", ip="192.0.2.9").status_code == 429
    assert sign_in(Client(), PASSWORD, ip="192.0.2.9").status_code == 429  # that address is locked
    assert sign_in(Client(), PASSWORD, ip="198.51.100.1").status_code == 302  # the account is not
    assert mail.outbox == []  # no account was locked: nobody to tell


def test_unknown_accounts_are_counted_but_nobody_is_mailed() -> None:
    for attempt in range(40):
        sign_in(Client(), f"wrong-{attempt}", email="nobody@example.com")
    assert sign_in(Client(), "x", email="nobody@example.com").status_code == 429
    assert mail.outbox == []


def test_behind_a_proxy_each_client_is_its_own_address(maya: User, settings: Any) -> None:
    from erp.lockout import client_ip

    settings.TRUSTED_PROXY_COUNT = 1
    request = type("R", (), {"META": {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 203.0.113.5"}})
    assert client_ip(request) == "203.0.113.5"  # the proxy's entry; the spoofable left one is ignored
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"


# Password reset -------------------------------------------------------------------------------------------------


def reset(client: Client, email: str, ip: str = "203.0.113.7") -> Any:
    return client.post("/accounts/password-reset/", {"email": email}, REMOTE_ADDR=ip)


def test_reset_answers_the_same_for_a_known_and_an_unknown_address(maya: User) -> None:
    known = reset(Client(), "maya@example.com")
    unknown = reset(Client(), "nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    page = Client().get(known["Location"]).content.decode()
    assert "If an account exists for that address" in page
    # One email to each address: the reset link to the owner, a "no account here" note to the other.
    assert sorted(m.to[0] for m in mail.outbox) == ["maya@example.com", "nobody@example.com"]
    known_mail = next(m for m in mail.outbox if m.to == ["maya@example.com"])
    unknown_mail = next(m for m in mail.outbox if m.to == ["nobody@example.com"])
    assert "/accounts/reset/" in known_mail.body
    assert "/accounts/reset/" not in unknown_mail.body
    assert "no\nDropline account uses it" in unknown_mail.body


def test_reset_requests_over_the_address_budget_send_nothing_and_say_the_same(maya: User) -> None:
    for _ in range(3):
        assert reset(Client(), "maya@example.com", ip=f"198.51.100.{_}").status_code == 302
    assert len(mail.outbox) == 3
    response = reset(Client(), "maya@example.com", ip="198.51.100.9")
    assert response.status_code == 302  # the same answer...
    assert len(mail.outbox) == 3  # ...but no fourth email


def test_reset_requests_over_the_ip_budget_get_429_with_a_message() -> None:
    for attempt in range(20):
        assert reset(Client(), f"someone-{attempt}@example.com").status_code == 302
    response = reset(Client(), "someone-else@example.com")
    assert response.status_code == 429
    assert b"Too many password-reset requests from your network" in response.content
    assert reset(Client(), "someone-else@example.com", ip="198.51.100.1").status_code == 302


# Sign-up --------------------------------------------------------------------------------------------------------


def test_sign_up_answers_a_free_and_a_registered_address_alike(maya: User) -> None:
    def attempt(email: str) -> tuple[int, str, str]:
        response = Client().post(
            "/accounts/signup/", {"email": email, "password": "Another-strong-pass-99", "organization_name": "Y"}
        )
        return response.status_code, response["Location"], Client().get(response["Location"]).content.decode()

    assert attempt("maya@example.com") == attempt("newcomer@example.com")
    assert sorted(m.to[0] for m in mail.outbox) == ["maya@example.com", "newcomer@example.com"]


def test_sign_up_with_a_registered_address_mails_its_owner_instead_of_saying_so(maya: User) -> None:
    response = Client().post(
        "/accounts/signup/",
        {"email": "MAYA@example.com", "password": "Another-strong-pass-99", "organization_name": "X"},
    )
    assert response.status_code == 302
    page = Client().get(response["Location"]).content.decode()
    assert "already" not in page.lower()
    assert "Check your email" in page
    assert not Organization.objects.filter(name="X").exists()
    assert [m.to for m in mail.outbox] == [["maya@example.com"]]
    assert "already has one" in mail.outbox[0].body
    maya.refresh_from_db()
    assert maya.check_password(PASSWORD)  # nothing changed


# Outages ----------------------------------------------------------------------------------------------------------


@pytest.mark.chaos
def test_with_redis_unreachable_reset_and_lockout_mail_still_go_out(
    maya: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 0011: the reset budget falls back to a per-process count; account mail is sent from the request when the
    broker cannot take it. Sign-in counting lives in PostgreSQL and does not notice."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError

    from erp.tasks import email_send

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def broker_down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(cache, "add", unreachable)
    monkeypatch.setattr(cache, "incr", unreachable)
    monkeypatch.setattr(email_send, "delay", broker_down)

    assert reset(Client(), "maya@example.com").status_code == 302
    assert [m.to for m in mail.outbox] == [["maya@example.com"]]
    assert "/accounts/reset/" in mail.outbox[0].body

    mail.outbox.clear()
    for attempt in range(40):
        sign_in(Client(), f"wrong-{attempt}")
    assert sign_in(Client(), PASSWORD).status_code == 429
    assert [m.to for m in mail.outbox] == [["maya@example.com"]]
    assert "/accounts/unlock/" in mail.outbox[0].body
