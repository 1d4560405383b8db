"""Writes of integrations: connecting stores by OAuth, keeping tokens fresh, receiving platform webhooks.

The Store row is the tenant's installation: `store_client(store)` returns a ready client whose refreshed tokens are
written back (encrypted) automatically. Nothing here imports the apps above (inventory, orders, shipping): they
subscribe to webhook topics through `webhook_topics.subscribe` instead.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from erp.actors import Actor
from erp.cache import memo
from erp.events import Event
from erp.models import Organization
from erp.services import audit_record
from erp.tenancy import cross_tenant, organization_scope
from integrations import registry
from integrations.base import Capability, LabelProvider, NotificationRejected, SalesChannel, TokensRefresher
from integrations.errors import PlatformError
from integrations.interface import Address, AuthorizedShop, TokenSet, WebhookEvent
from integrations.interface import Warehouse as PlatformWarehouse
from integrations.models import (
    AuthorizationStatus,
    DeliveryState,
    Platform,
    SellerAuthorization,
    Store,
    StoreStatus,
    TikTokShopSettings,
    WebhookDelivery,
)
from webhooks.services import event_publish

log = logging.getLogger(__name__)

OAUTH_SESSION_KEY = "dropline_oauth_states"
OAUTH_STATE_TTL = timedelta(minutes=30)  # TikTok's auth code lives 30 minutes too


# --------------------------------------------------------------------------------------------- installation
def _tokens_of(authorization: SellerAuthorization) -> TokenSet:
    return TokenSet(
        access_token=authorization.access_token,
        access_token_expires_at=authorization.access_token_expires_at,
        refresh_token=authorization.refresh_token,
        refresh_token_expires_at=authorization.refresh_token_expires_at,
        open_id=authorization.seller_id,
        seller_name=authorization.seller_name,
    )


def authorization_tokens_save(*, authorization_id: UUID | str, tokens: TokenSet) -> None:
    """Persist refreshed tokens (encrypted by the field). Called by the adapter whenever it refreshes."""
    SellerAuthorization.unscoped.filter(pk=authorization_id).update(
        access_token=tokens.access_token,
        access_token_expires_at=tokens.access_token_expires_at,
        refresh_token=tokens.refresh_token,
        refresh_token_expires_at=tokens.refresh_token_expires_at,
        refreshed_at=timezone.now(),
        status=AuthorizationStatus.ACTIVE,
        status_detail="",
    )


def _tokens_saver(store: Store) -> Callable[[TokenSet], None]:
    authorization_id = store.authorization_id

    def save(tokens: TokenSet) -> None:
        if authorization_id is not None:  # a store without an authorization gets no client to refresh tokens with
            authorization_tokens_save(authorization_id=authorization_id, tokens=tokens)

    return save


def authorization_tokens_refresh(
    *, authorization_id: UUID | str, stale: TokenSet, refresh: Callable[[TokenSet], TokenSet]
) -> TokenSet:
    """Refresh a seller's tokens once across every worker (`integrations.base.TokensRefresher`): the row is locked,
    and when its access token is no longer the stale one another worker refreshed while this one waited, so its
    tokens are returned instead of refreshing again with a refresh token that may have rotated away. Saved at once.
    The lock is held over the platform's answer (a second or so, once an hour at most per seller)."""
    with transaction.atomic():
        row = SellerAuthorization.unscoped.select_for_update().filter(pk=authorization_id).first()
        if row is not None and row.access_token != stale.access_token:
            return _tokens_of(row)
        fresh = refresh(stale)
        authorization_tokens_save(authorization_id=authorization_id, tokens=fresh)
    return fresh


def _tokens_refresher(store: Store) -> TokensRefresher | None:
    authorization_id = store.authorization_id
    if authorization_id is None:
        return None

    def refresh(stale: TokenSet, platform_refresh: Callable[[TokenSet], TokenSet]) -> TokenSet:
        return authorization_tokens_refresh(authorization_id=authorization_id, stale=stale, refresh=platform_refresh)

    return refresh


def store_client(store: Store, *, while_a_person_waits: bool = False) -> SalesChannel:
    """This store's sales channel, with the seller's current tokens; refreshed tokens are saved as they arrive.
    `while_a_person_waits`: for reads inside a web request, one short attempt instead of a worker's retries.
    Raises NotSupported for a store whose platform has no adapter (manual orders)."""
    return registry.adapter_for(store.platform).sales_channel(
        store,
        tokens=_tokens_of(store.authorization) if store.authorization else None,
        save_tokens=_tokens_saver(store),
        refresh_tokens=_tokens_refresher(store),
        while_a_person_waits=while_a_person_waits,
    )


def store_label_provider(store: Store) -> LabelProvider:
    """Who sells this store's labels (the channel's own shipping, for now). NotSupported when nobody does."""
    return registry.adapter_for(store.platform).label_provider(
        store,
        tokens=_tokens_of(store.authorization) if store.authorization else None,
        save_tokens=_tokens_saver(store),
        refresh_tokens=_tokens_refresher(store),
    )


def platform_name(platform: str) -> str:
    """The platform as people read it in messages ("TikTok"); the platform value itself when no adapter serves it."""
    return registry.platform_name(platform)


# ------------------------------------------------------------------------------------------- connecting stores
def store_connect_start(*, session: SessionBase, organization: Organization, platform: str, shop: str = "") -> str:
    """The URL of the platform's consent page. `state` is single-use and bound to this session, organization,
    platform and (for a platform connected shop by shop) the shop the seller typed. PlatformError kind INVALID when
    that shop is not one."""
    adapter = registry.adapter_for(platform)
    state = secrets.token_urlsafe(24)
    consent_url = adapter.authorization_url(state, shop=shop.strip())
    now = time.time()
    states = {k: v for k, v in session.get(OAUTH_SESSION_KEY, {}).items() if v["expires"] > now}
    states[state] = {
        "organization": str(organization.pk),
        "platform": platform,
        "shop": shop.strip(),
        "expires": now + OAUTH_STATE_TTL.total_seconds(),
    }
    session[OAUTH_SESSION_KEY] = states
    return consent_url


@dataclass
class ConnectResult:
    connected: list[Store] = field(default_factory=list)
    reconnected: list[Store] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # shops that belong to another organization


def _consume_state(session: SessionBase, state: str, organization: Organization, platform: str) -> str:
    """Use up `state`; returns the shop the connection was started for ("" when the platform asked for none)."""
    states = session.get(OAUTH_SESSION_KEY, {})
    entry = states.pop(state, None)
    session[OAUTH_SESSION_KEY] = states  # popped whatever happens next: a state works once
    if entry is None or entry["expires"] < time.time() or entry.get("platform") != platform:
        raise ValidationError("This connection attempt is unknown, expired or already used. Start again from Stores.")
    if entry["organization"] != str(organization.pk):
        raise ValidationError("This connection was started in another organization. Switch to it and start again.")
    return str(entry.get("shop", ""))


def store_connect_complete(
    *,
    session: SessionBase,
    organization: Organization,
    actor: Actor,
    platform: str,
    code: str,
    state: str,
    callback: Mapping[str, str] | None = None,
) -> ConnectResult:
    """Finish the OAuth flow: verify the callback (`callback`: every query parameter the platform sent back), exchange
    the code, list the seller's shops, create or update one Store per shop."""
    started_for = _consume_state(session, state, organization, platform)
    authorized = registry.adapter_for(platform).authorize(code, callback=callback or {}, shop=started_for)
    with transaction.atomic():
        authorization = _authorization_save(organization, platform, authorized.tokens)
        result = ConnectResult()
        for shop in authorized.shops:
            _store_save(organization, actor, authorization, shop, result)
    from integrations.tasks import register_webhooks  # tasks import this module

    notifies = registry.has_capability(platform, Capability.NOTIFICATIONS)
    for store in result.connected + result.reconnected:
        if notifies:
            register_webhooks.delay_on_commit(organization_id=str(organization.pk), store_id=str(store.pk))
        store_sync_requested.send(store)
    return result


def _authorization_save(organization: Organization, platform: str, tokens: TokenSet) -> SellerAuthorization:
    # A cross-tenant read on purpose: the seller account may already be connected, here or elsewhere.
    with cross_tenant(reason="a seller account is connected to one organization at most"):
        existing = (
            SellerAuthorization.unscoped.select_for_update().filter(platform=platform, seller_id=tokens.open_id).first()
        )
    if existing is not None and existing.organization_id != organization.pk:
        raise ValidationError(
            f"This {platform_name(platform)} seller account is already connected to another Dropline organization. "
            "Disconnect it there first, or ask its owner to invite you."
        )
    with organization_scope(organization):
        authorization = existing or SellerAuthorization(platform=platform, seller_id=tokens.open_id)
        authorization.seller_name = tokens.seller_name
        authorization.region = tokens.seller_base_region
        authorization.access_token = tokens.access_token
        authorization.access_token_expires_at = tokens.access_token_expires_at
        authorization.refresh_token = tokens.refresh_token
        authorization.refresh_token_expires_at = tokens.refresh_token_expires_at
        authorization.status = AuthorizationStatus.ACTIVE
        authorization.status_detail = ""
        authorization.expires_notice_at = None
        authorization.save()
    return authorization


def _store_save(
    organization: Organization,
    actor: Actor,
    authorization: SellerAuthorization,
    shop: AuthorizedShop,
    result: ConnectResult,
) -> None:
    platform = authorization.platform
    with cross_tenant(reason="a shop is connected to one organization at most"):
        existing = Store.unscoped.select_for_update().filter(platform=platform, external_id=shop.shop_id).first()
    if existing is not None and existing.organization_id != organization.pk:
        result.refused.append(shop.name)
        return
    with organization_scope(organization):
        store = existing or Store(platform=platform, external_id=shop.shop_id)
        store.authorization = authorization
        store.name = shop.name
        store.region = shop.region
        store.seller_type = shop.seller_type
        store.code = shop.code
        store.status = StoreStatus.ACTIVE
        if existing is None:
            store.connected_at = timezone.now()
        store.save()
        registry.adapter_for(platform).store_connected(store, shop)
    (result.reconnected if existing else result.connected).append(store)
    audit_record(
        organization=organization,
        actor=actor,
        action="store.reconnected" if existing else "store.connected",
        target=store,
        changes={"shop_id": shop.shop_id, "region": shop.region},
    )


def store_webhooks_register(*, store: Store) -> list[str]:
    """Point the store's notifications at this deployment. Returns the topics subscribed (none for a channel that
    sends no notifications: it is polled)."""
    if not registry.has_capability(store.platform, Capability.NOTIFICATIONS):
        return []
    address = f"{settings.DROPLINE_PUBLIC_URL}/webhooks/{store.platform}/"
    return store_client(store).subscribe_notifications(address)


# ----------------------------------------------------------------------------------------------- token health
def authorization_refresh(*, authorization: SellerAuthorization) -> None:
    """Refresh before expiry (beat). A failure marks the seller's stores so the dashboard shows how to fix it."""
    try:
        authorization_tokens_refresh(
            authorization_id=authorization.pk,
            stale=_tokens_of(authorization),
            refresh=registry.adapter_for(authorization.platform).refresh,
        )
    except PlatformError as error:
        if error.retryable:
            raise
        authorization_mark(authorization=authorization, status=AuthorizationStatus.FAILED, detail=error.message)


def authorization_mark(*, authorization: SellerAuthorization, status: str, detail: str) -> None:
    with organization_scope(authorization.organization):
        SellerAuthorization.objects.filter(pk=authorization.pk).update(status=status, status_detail=detail[:1000])
        if status in (AuthorizationStatus.FAILED, AuthorizationStatus.REVOKED):
            newly = list(authorization.stores.exclude(status=StoreStatus.NEEDS_ATTENTION))
            authorization.stores.update(status=StoreStatus.NEEDS_ATTENTION)
            for store in newly:
                event_publish(
                    organization=authorization.organization,
                    type="store.needs_attention",
                    object_type="store",
                    object_id=store.pk,
                    data={
                        "id": str(store.pk),
                        "name": store.name,
                        "platform": store.platform,
                        "status": StoreStatus.NEEDS_ATTENTION.value,
                        "reason": detail[:1000],
                    },
                )
        audit_record(
            organization=authorization.organization,
            actor=Actor.system(authorization.get_platform_display()),
            action=f"authorization.{status}",
            target=authorization,
            changes={"detail": detail[:200]},
        )


# ------------------------------------------------------------------------------------------------- webhooks
class WebhookTopics:
    """Apps above integrations subscribe to webhook topics here (orders: order changes), so this layer never
    imports them. Handlers run inside the store's organization scope and must only enqueue work."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable[[Store, WebhookEvent], None]]] = {}

    def subscribe(self, topic: str, handler: Callable[[Store, WebhookEvent], None]) -> None:
        self._handlers.setdefault(topic, []).append(handler)

    def dispatch(self, store: Store, event: WebhookEvent) -> int:
        handlers = self._handlers.get(event.topic, [])
        for handler in handlers:
            handler(store, event)
        return len(handlers)


webhook_topics = WebhookTopics()


# Announced after a store is connected or reconnected (orders syncs it); after its policy changed (inventory
# re-pushes what it advertises).
store_sync_requested = Event("store_sync_requested")
store_policy_changed = Event("store_policy_changed")


def store_sync_request(*, store: Store) -> None:
    """Sync the store now, in the background (its orders, and its catalogue where the channel has one): the
    dashboard's "Sync now" and the API's. A store that is not connected cannot sync: refused with the fix."""
    if store.status != StoreStatus.ACTIVE:
        raise ValidationError(
            f"{store.name} is {store.get_status_display().lower()}: reconnect it under Stores (Connect "
            f"{store.get_platform_display()}, approve Dropline again), then sync."
        )
    store_sync_requested.send(store)


class WebhookRejected(Exception):
    """The body is not a signed platform notification; answer 401 and change nothing."""


WEBHOOK_UNKNOWN_SHOP = "unknown shop"
WEBHOOK_DUPLICATE = "duplicate"
_unknown_shops_logged: set[str] = set()


def _log_unknown_shop(notification_id: str, shop_id: str) -> None:
    """Once per shop and process at WARNING, then at DEBUG: the platform (and the sandbox, for every shop it
    seeds) keeps notifying about shops no organization connected, and one line says all there is to say."""
    if shop_id in _unknown_shops_logged:
        log.debug("webhook %s for unknown shop %s ignored", notification_id, shop_id)
        return
    _unknown_shops_logged.add(shop_id)
    log.warning(
        "webhook %s for unknown shop %s ignored (no organization connected it; its next ones are logged at DEBUG)",
        notification_id,
        shop_id,
    )


WEBHOOK_INVALID = "invalid"
WEBHOOK_LEASE = timedelta(minutes=5)  # a PROCESSING row older than this lost its worker: the sweep takes it over
WEBHOOK_RETRY_DELAYS = (30, 120, 600, 1800, 3600)  # seconds before attempt 2, 3, ...; then hourly
WEBHOOK_MAX_ATTEMPTS = 30  # about a day of retries; the order sync has long caught up by then


def webhook_receive(*, platform: str, raw_body: bytes, headers: Mapping[str, str]) -> str:
    """Verify a notification and record it with its work in one transaction; returns what happened, for the log.

    Nothing here needs Redis: the platform hears 200 once the row is committed, and the row is processed by a
    worker (woken after commit) or by beat's sweep (`webhooks_process_due`) if the wake-up could not be sent. A
    signed body that is not a readable notification is recorded as INVALID and acknowledged: the platform would only
    retry it to the same end. `headers` by lower-case name; each adapter reads the ones its platform signs with."""
    try:
        adapter = registry.adapter_for(platform)
    except PlatformError as error:
        raise WebhookRejected(f"unknown platform {platform}") from error
    if Capability.NOTIFICATIONS not in adapter.capabilities:
        raise WebhookRejected(f"{platform} sends no notifications")
    try:
        notification = adapter.receive_notification(headers, raw_body)
    except NotificationRejected as error:
        raise WebhookRejected(str(error)) from error
    event, invalid = notification.event, notification.unreadable
    # The shop id is all the notification says about whose it is: a deliberate cross-tenant lookup.
    store = (
        Store.unscoped.select_related("organization", "authorization")
        .filter(platform=platform, external_id=notification.shop_id)
        .first()
        if notification.shop_id
        else None
    ) or _store_of_seller(platform, notification.seller_id)
    if store is None:
        if invalid:
            log.warning("signed webhook ignored: %s, and no store can be told from it", invalid)
            return WEBHOOK_INVALID
        _log_unknown_shop(event.notification_id if event else "", notification.shop_id)
        return WEBHOOK_UNKNOWN_SHOP
    with organization_scope(store.organization):
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    platform=platform,
                    notification_id=event.notification_id if event else "",
                    topic=event.topic if event else "",
                    store=store,
                    payload=_delivery_summary(event),
                    body=raw_body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
                    headers=dict(notification.headers),
                    state=DeliveryState.INVALID if invalid else DeliveryState.PENDING,
                    last_error=invalid,
                )
                if not invalid:
                    transaction.on_commit(lambda: _wake_webhook_worker(delivery))
        except IntegrityError:
            return WEBHOOK_DUPLICATE
    if invalid:
        log.warning("signed webhook for %s recorded as invalid: %s", store, invalid)
        return WEBHOOK_INVALID
    return f"{event.topic} recorded" if event else WEBHOOK_INVALID


def _delivery_summary(event: WebhookEvent | None) -> dict[str, str]:
    if event is None:
        return {}
    return {"topic": event.topic, "order_id": event.order_id, "status": event.order_status}


def _wake_webhook_worker(delivery: WebhookDelivery) -> None:
    from erp.tasks import wake
    from integrations.tasks import webhook_process

    wake(webhook_process, organization_id=str(delivery.organization_id), delivery_id=str(delivery.pk))


def webhook_process(*, delivery_id: UUID | str) -> str:
    """Process one recorded notification, once: the conditional UPDATE that moves it to PROCESSING is the lock (a
    duplicate wake-up or the sweep racing the worker finds nothing to claim). The handlers do their work here, in
    the worker, rather than enqueueing it: a row is PROCESSED only once its work is done, and a failure is retried
    by the sweep with backoff."""
    now = timezone.now()
    claimable = (
        Q(state=DeliveryState.PENDING)
        | Q(state=DeliveryState.FAILED, next_attempt_at__lte=now)
        | Q(state=DeliveryState.PROCESSING, processing_since__lt=now - WEBHOOK_LEASE)
    )
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id)
        .filter(claimable)
        .update(state=DeliveryState.PROCESSING, processing_since=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "not due, or taken by another worker"
    delivery = WebhookDelivery.objects.select_related("store__organization", "store__authorization").get(pk=delivery_id)
    try:
        event = registry.adapter_for(delivery.platform).parse_notification(delivery.body.encode(), delivery.headers)
    except PlatformError as error:
        _webhook_settle(delivery, state=DeliveryState.INVALID, error=error.message)
        return "invalid"
    try:
        _handle_authorization_topics(delivery.store, event)
        handled = webhook_topics.dispatch(delivery.store, event)
    except Exception as error:  # any failure of the work is retried; the traceback is logged
        log.warning("webhook %s (%s) failed, attempt %d", delivery.pk, event.topic, delivery.attempts, exc_info=True)
        _webhook_settle(delivery, state=DeliveryState.FAILED, error=f"{type(error).__name__}: {error}"[:2000])
        return "failed"
    _webhook_settle(delivery, state=DeliveryState.PROCESSED)
    return f"{event.topic}: {handled} handler(s)"


def _webhook_settle(delivery: WebhookDelivery, *, state: str, error: str = "") -> None:
    now = timezone.now()
    next_attempt_at = None
    if state == DeliveryState.FAILED and delivery.attempts < WEBHOOK_MAX_ATTEMPTS:
        delay = WEBHOOK_RETRY_DELAYS[min(delivery.attempts, len(WEBHOOK_RETRY_DELAYS)) - 1]
        next_attempt_at = now + timedelta(seconds=delay)
    WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.PROCESSING).update(
        state=state,
        last_error=error,
        next_attempt_at=next_attempt_at,
        processing_since=None,
        processed_at=now if state == DeliveryState.PROCESSED else None,
    )


def webhooks_due(*, grace: timedelta, limit: int) -> list[tuple[UUID, UUID]]:
    """(delivery id, organization id) of notifications the sweep should process: pending past the grace period
    given to their wake-up, failed and due again, or processing under a lease that ran out. The sweep serves every
    organization: a deliberate cross-tenant read of ids."""
    now = timezone.now()
    due = (
        Q(state=DeliveryState.PENDING, received_at__lt=now - grace)
        | Q(state=DeliveryState.FAILED, next_attempt_at__lte=now)
        | Q(state=DeliveryState.PROCESSING, processing_since__lt=now - WEBHOOK_LEASE)
    )
    rows = WebhookDelivery.unscoped.filter(due).order_by("received_at").values_list("pk", "organization_id")
    return list(rows[:limit])


def _store_of_seller(platform: str, seller_open_id: str) -> Store | None:
    if not seller_open_id:
        return None
    return (
        Store.unscoped.select_related("organization", "authorization")
        .filter(platform=platform, authorization__seller_id=seller_open_id)
        .first()
    )


def _handle_authorization_topics(store: Store, event: WebhookEvent) -> None:
    authorization = store.authorization
    if authorization is None:
        return
    if event.topic == "SELLER_DEAUTHORIZATION":
        authorization_mark(
            authorization=authorization,
            status=AuthorizationStatus.REVOKED,
            detail=f"The seller removed Dropline's access in {platform_name(store.platform)} (uninstalled the app or "
            "revoked its authorization). Reconnect the store to resume.",
        )
    elif event.topic == "UPCOMING_AUTHORIZATION_EXPIRATION":
        SellerAuthorization.objects.filter(pk=authorization.pk).update(
            status=AuthorizationStatus.EXPIRING,
            status_detail=event.message or "TikTok says this authorization expires soon. Reconnect to renew it.",
            expires_notice_at=event.updated_at,
        )


# ------------------------------------------------------------------------------------------ platform warehouses
PLATFORM_WAREHOUSES_TTL = 600  # seconds: a shop's warehouses change rarely; the warehouse page reads them often


def platform_address_line(address: Address | None) -> str:
    """A platform warehouse's address on one line, as a person compares it with their own warehouse's."""
    if address is None:
        return ""
    if address.full_address:
        return address.full_address
    parts = [address.line1, address.line2, address.city, address.state, address.postal_code, address.region_code]
    return ", ".join(part for part in parts if part)


def store_platform_warehouses(store: Store) -> list[PlatformWarehouse]:
    """The store's channel warehouses (Capability.LOCATIONS): the addresses the channel prints as the sender on labels
    of the orders it assigns to each. Cached for ten minutes; raises PlatformError when the platform cannot be
    asked."""
    if not registry.has_capability(store.platform, Capability.LOCATIONS):
        return []
    key = f"platform-warehouses:{store.pk}"
    cached = memo.get(key)
    if isinstance(cached, str):  # the platform failed a moment ago: say so again rather than wait for it
        raise PlatformError(store.platform, "unreachable", cached)
    if isinstance(cached, list):
        return cached
    try:
        warehouses = store_client(store, while_a_person_waits=True).list_locations()
    except PlatformError as error:  # asked again in a minute, not on every page view while the platform is down
        memo.set(key, str(error), 60)
        raise
    memo.set(key, warehouses, PLATFORM_WAREHOUSES_TTL)
    return warehouses


# ------------------------------------------------------------------------------------------------- store policy
# What a seller sets per store on its page (StorePolicyForm); the rest of a Store comes from the platform.
STORE_POLICY_FIELDS = (
    "auto_buy_labels",
    "stock_push_enabled",
    "stock_push_buffer",
    "stock_push_percentage",
    "stock_push_max_quantity",
    "stock_push_zero_below",
    "backfill_days",
    "handling_days",
)
# A TikTok store's own dates under TikTok's 2026 logistics policy (integrations.logistics_policy): set on its page
# like the rest, kept in its TikTokShopSettings. Other stores have no such dates.
TIKTOK_POLICY_FIELDS = (
    "joined_platform_on",
    "logistics_transition_from",
    "official_logistics_from",
)


def store_policy_fields(store: Store) -> tuple[str, ...]:
    """The policy fields a seller sets on this store: every store's, and a TikTok store's logistics-policy dates."""
    return STORE_POLICY_FIELDS + (TIKTOK_POLICY_FIELDS if store.platform == Platform.TIKTOK else ())


@transaction.atomic
def store_policy_update(*, store: Store, actor: Actor, changes: Mapping[str, object]) -> Store:
    """Set the store's policy fields in `changes` (validated by the caller: the form), audited as
    `store.policy_changed`; when a stock-push setting changed, `store_policy_changed` tells inventory to re-push
    what the store advertises. A TikTok store's dates go to its TikTokShopSettings (created if it has none). Nothing
    changed: nothing is written or announced."""
    unknown = set(changes) - set(store_policy_fields(store))
    if unknown:
        raise ValueError(f"not a store policy field: {', '.join(sorted(unknown))}")
    if not changes:
        return store
    audit_record(
        organization=store.organization,
        actor=actor,
        action="store.policy_changed",
        target=store,
        changes={name: value.isoformat() if isinstance(value, date) else value for name, value in changes.items()},
    )
    on_store = [name for name in changes if name in STORE_POLICY_FIELDS]
    for name in on_store:
        setattr(store, name, changes[name])
    if on_store:
        store.save(update_fields=on_store)
    dates = [name for name in changes if name in TIKTOK_POLICY_FIELDS]
    if dates:
        tiktok, _ = TikTokShopSettings.objects.select_for_update().get_or_create(store=store)
        for name in dates:
            setattr(tiktok, name, changes[name])
        tiktok.save(update_fields=dates)
        store.tiktok_settings = tiktok  # what the caller reads next is what was saved
    if any(name.startswith("stock_push") for name in changes):
        store_policy_changed.send(store)
    return store
