"""A new seller in a real browser: sign up, sign out and in, reach the dashboard, add and switch organizations."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Official-labels-only-2026"


def confirm_from_email(page: Any, address: str) -> None:
    """The account works once its address is confirmed: open the link from the email and confirm (ADR 0013)."""
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    body = next(m.body for m in reversed(mail.outbox) if m.to == [address])
    page.goto(re.search(r"https?://\S+/accounts/confirm/\S+/", body).group(0))
    page.get_by_role("button", name="Confirm and sign in").click()


def test_sign_up_log_in_dashboard_and_switch_organization(page: Any) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Your name").fill("Rosa Diaz")
    page.get_by_label("Work email").fill("rosa@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Business name").fill("Rosa's Print Studio")
    screenshot(page, "signup")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    confirm_from_email(page, "rosa@example.com")

    expect(page.get_by_role("heading", name="Rosa's Print Studio")).to_be_visible()
    expect(page.get_by_text("Welcome to Dropline")).to_be_visible()
    screenshot(page, "dashboard")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Email address").fill("rosa@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Rosa's Print Studio")).to_be_visible()

    page.get_by_role("link", name="+ New organization").click()
    page.get_by_label("Name").fill("Rosa Wholesale")
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("heading", name="Rosa Wholesale")).to_be_visible()

    page.get_by_label("Organization").select_option(label="Rosa's Print Studio")
    expect(page.get_by_role("heading", name="Rosa's Print Studio")).to_be_visible()
    expect(page.get_by_text("Switched to Rosa's Print Studio.")).to_be_visible()
    page.get_by_label("Organization").select_option(label="Rosa Wholesale")
    expect(page.get_by_role("heading", name="Rosa Wholesale")).to_be_visible()
    screenshot(page, "switched")


def test_members_page_invites_a_teammate(page: Any) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Work email").fill("lee@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Business name").fill("Lee Goods")
    page.get_by_role("button", name="Create account").click()
    confirm_from_email(page, "lee@example.com")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Email").fill("packer@example.com")
    page.get_by_label("Role").select_option("warehouse")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to packer@example.com.")).to_be_visible()
    expect(page.get_by_text("Pending invitations")).to_be_visible()
    screenshot(page, "members")
