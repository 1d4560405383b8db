"""A seller's tokens are refreshed once across every worker: platforms that rotate refresh tokens (Shopify) would
otherwise see two workers refresh with the same refresh token, and one of them keep a token that no longer works."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from integrations import services
from integrations.interface import TokenSet
from integrations.models import SellerAuthorization
from tests.factories import SellerAuthorizationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_workers_refreshing_at_once_refresh_once_and_both_get_the_new_tokens(tenant: Any) -> None:
    authorization = SellerAuthorizationFactory(organization=tenant.organization, platform="shopify")
    stale = TokenSet(
        access_token=authorization.access_token,
        access_token_expires_at=authorization.access_token_expires_at,
        refresh_token=authorization.refresh_token,
    )
    calls: list[str] = []

    def platform_refresh(tokens: TokenSet) -> TokenSet:
        calls.append(tokens.refresh_token)
        time.sleep(0.3)  # the platform answers while the other worker waits for the row
        return replace(
            tokens,
            access_token=f"access-{len(calls)}",
            refresh_token=f"refresh-{len(calls)}",
            access_token_expires_at=timezone.now() + timedelta(hours=1),
        )

    got: list[TokenSet] = []

    def worker() -> None:
        try:
            got.append(
                services.authorization_tokens_refresh(
                    authorization_id=authorization.pk, stale=stale, refresh=platform_refresh
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [stale.refresh_token]  # one refresh, with the token both held
    assert [(t.access_token, t.refresh_token) for t in got] == [("access-1", "refresh-1")] * 2
    saved = SellerAuthorization.unscoped.get(pk=authorization.pk)
    assert (saved.access_token, saved.refresh_token) == ("access-1", "refresh-1")  # persisted at once
