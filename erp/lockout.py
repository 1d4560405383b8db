"""Sign-in protection (docs/adr/0013-security-hardening.md).

django-axes counts failed sign-ins in PostgreSQL and refuses an account or an address over its limit, even with the
right password. This module holds what Dropline adds to it:

- one limit per lockout parameter (an account is locked after LOGIN_FAILURE_LIMITS["username"] failures, an address
  after a higher number, because an office or a mobile carrier puts many people behind one address);
- the lockout page: the sign-in form with "try again in N minutes or use the link we emailed", status 429;
- the email to the account's owner with a signed, expiring, one-time unlock link;
- the password-reset request budget (per address asked for and per client IP).
"""

from __future__ import annotations

import hashlib
import logging
import math
from datetime import datetime, timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core import signing
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.db.models import Max, Min, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from erp.models import User
from erp.tasks import BROKER_ERRORS, email_send

log = logging.getLogger(__name__)

UNLOCK_SALT = "erp.lockout.unlock"


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client's address. Behind TRUSTED_PROXY_COUNT proxies it is that many entries
    from the right of X-Forwarded-For (entries further left are whatever the client sent, so not trusted);
    without a proxy, REMOTE_ADDR. Counting every user behind the load balancer as one address would lock them all."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None  # None, not a made-up string: axes stores it as an inet


def username_from(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """AXES_USERNAME_CALLABLE: emails are stored lower-case, so "Maya@X" and "maya@x" count as one account."""
    raw = (credentials or {}).get("username") or request.POST.get("username") or ""
    return raw.strip().lower()[:254] or None


class LoginAttemptHandler(AxesDatabaseHandler):
    """axes' database handler with one limit per lockout parameter, and the owner's email when an account locks."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        # axes compares one number with one limit (AXES_FAILURE_LIMIT, the account's). Each parameter's count is
        # scaled to the account's limit, so "count >= limit" means "over its own limit" for the address too.
        account_limit = settings.LOGIN_FAILURE_LIMITS["username"]
        scaled = []
        for parameter, attempts in zip(
            settings.AXES_LOCKOUT_PARAMETERS, self.get_user_attempts(request, credentials), strict=True
        ):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            scaled.append(failures * account_limit // settings.LOGIN_FAILURE_LIMITS[parameter])
        return max(scaled, default=0)

    def user_login_failed(
        self, sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        was_locked = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is not None and not was_locked and getattr(request, "axes_locked_out", False):
            account_lockout_notify(username=get_client_username(request, credentials))


def account_failures(*, username: str) -> int:
    """Failed sign-ins for this account inside the cool-off window."""
    since = timezone.now() - get_cool_off()
    attempts = AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def account_lockout_notify(*, username: str | None) -> bool:
    """Mail the owner of a just-locked account an unlock link. Only when the account itself is over its limit (an
    address over its own limit is not this owner's problem), and nothing for an address nobody signed up with."""
    if not username or account_failures(username=username) < settings.LOGIN_FAILURE_LIMITS["username"]:
        return False
    user = User.objects.filter(email__iexact=username, is_active=True).first()
    if user is None:
        return False
    token = unlock_token_make(username=username)
    context = {
        "unlock_url": settings.DROPLINE_PUBLIC_URL + reverse("account_unlock", args=[token]),
        "minutes": int(get_cool_off().total_seconds() // 60),
        "link_hours": settings.ACCOUNT_UNLOCK_LINK_MAX_AGE_HOURS,
    }
    email_send_now_or_queue(
        to=[user.email],
        subject="Your Dropline sign-in is locked",
        body=render_to_string("emails/account_locked.txt", context),
    )
    log.warning("sign-in locked for an account after repeated failures; unlock link mailed to its owner")
    return True


def _lockout_fingerprint(username: str) -> str:
    """Names this lockout: its oldest attempt row. Unlocking deletes the rows, so a used link stops working (one
    use), and a later lockout gets a new name (an old link does not unlock it). Later failures during the lockout
    leave the oldest row in place, so they do not void the link already mailed."""
    first = AccessAttempt.objects.filter(username=username).aggregate(first=Min("id"))["first"]
    return hashlib.sha256(f"{first}".encode()).hexdigest()[:16] if first is not None else ""


def unlock_token_make(*, username: str) -> str:
    return signing.dumps({"u": username, "f": _lockout_fingerprint(username)}, salt=UNLOCK_SALT, compress=True)


def unlock_token_check(*, token: str) -> str | None:
    """The username the link unlocks, or None if it is forged, expired, used or for an earlier lockout."""
    try:
        data = signing.loads(
            token, salt=UNLOCK_SALT, max_age=timedelta(hours=settings.ACCOUNT_UNLOCK_LINK_MAX_AGE_HOURS)
        )
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    username = data.get("u") if isinstance(data, dict) else None
    if not username or not data.get("f") or data.get("f") != _lockout_fingerprint(username):
        return None
    return username


def account_unlock(*, token: str) -> bool:
    """Clear the account's failed attempts (from every address). False if the link is no longer valid."""
    username = unlock_token_check(token=token)
    if username is None:
        return False
    deleted, _ = AccessAttempt.objects.filter(username=username).delete()
    log.info("sign-in unlocked by the owner's link (%s attempt rows cleared)", deleted)
    return True


def lockout_minutes_left(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """Minutes until the lockout passes: every counted attempt has left the cool-off window by then."""
    username = get_client_username(request, credentials)
    ip_address = getattr(request, "axes_ip_address", None) or client_ip(request)
    latest: datetime | None = None
    for lookup in ({"username": username}, {"ip_address": ip_address}):
        found = AccessAttempt.objects.filter(**lookup).aggregate(latest=Max("attempt_time"))["latest"]
        if found is not None and (latest is None or found > latest):
            latest = found
    if latest is None:
        return 1
    left = (latest + get_cool_off() - timezone.now()).total_seconds()
    return max(1, math.ceil(left / 60))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page again, with the reason and what to do, as 429."""
    # Unbound: a bound form would validate, that is authenticate, once more.
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    minutes = lockout_minutes_left(request, credentials)
    message = (
        f"Too many sign-in attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}, "
        "or use the unlock link we emailed to the account's owner."
    )
    context = {"form": form, "lockout_message": message, "next": request.POST.get("next", "")}
    return render(request, "accounts/login.html", context, status=429)


def email_send_now_or_queue(*, to: list[str], subject: str, body: str) -> None:
    """Account emails go through the worker like every other; with the broker unreachable they are sent from the
    request instead, because an unlock or reset link that never leaves is worse than a slower page."""
    try:
        email_send.delay(to=to, subject=subject, body=body)
    except BROKER_ERRORS as error:
        log.warning("broker unreachable (%s): account email sent from the request", error)
        email_send.run(to=to, subject=subject, body=body)


# Password-reset requests ---------------------------------------------------------------------------------------

_process_cache = LocMemCache("password-reset-budget-during-outage", {})


def _spend(key: str, limit: int, window: timedelta) -> bool:
    """One from a fixed-window budget in the shared cache; with Redis unreachable the budget is counted in this
    process (like the API's reads, docs/adr/0011): a reset link must still be obtainable during an outage."""
    seconds = int(window.total_seconds())
    for store in (cache, _process_cache):
        try:
            store.add(key, 0, seconds)
            return store.incr(key) <= limit
        except BROKER_ERRORS as error:
            log.warning("cache unreachable (%s): password-reset budget counted per process", error)
    return True  # unreachable: the process cache does not raise


def password_reset_allowed(*, email: str) -> bool:
    """Whether a reset request may send mail: per address asked for and per client IP, per hour. The address's
    budget is silent (the page says the same either way); the IP's makes the view answer 429."""
    window = timedelta(hours=1)
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return _spend(f"pwreset:email:{digest}", settings.PASSWORD_RESET_LIMITS["email"], window)


def password_reset_ip_allowed(*, request: HttpRequest) -> bool:
    key = f"pwreset:ip:{client_ip(request) or 'unknown'}"
    return _spend(key, settings.PASSWORD_RESET_LIMITS["ip_address"], timedelta(hours=1))
