"""Stores in the dashboard: connect a TikTok shop by OAuth, see its sync health, set its policy; and the platform
webhook endpoint (no session: the signature is the authentication)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView, UpdateView

from erp.metrics import webhook_in_observe
from erp.roles import Perm
from erp.views_base import OrganizationViewMixin
from integrations import registry, selectors, services
from integrations.errors import NotSupported, PlatformError
from integrations.forms import StorePolicyForm
from integrations.models import Store

log = logging.getLogger(__name__)


class StoresView(OrganizationViewMixin, TemplateView):
    template_name = "stores/home.html"

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        """The connect forms' answers redirect to each platform's consent page, and browsers hold a form's redirects
        to the page's CSP form-action: allow exactly those origins (django-csp merges `_csp_update`)."""
        response = super().render_to_response(context, **kwargs)
        response._csp_update = {"form-action": selectors.consent_origins()}  # type: ignore[attr-defined]
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            stores=selectors.stores_list(),
            attention=selectors.authorizations_needing_attention(),
            channels=selectors.connectable_channels(),
            **kwargs,
        )


class StoreConnectView(OrganizationViewMixin, View):
    """POST: off to the platform's consent page, carrying a single-use state bound to this session and organization."""

    write_permission = Perm.STORES_MANAGE

    def post(self, request: HttpRequest, platform: str) -> HttpResponse:
        try:
            consent_url = services.store_connect_start(
                session=request.session,
                organization=request.organization,
                platform=platform,
                shop=request.POST.get("shop", ""),
            )
        except NotSupported as error:  # no adapter serves this platform
            raise Http404(error.message) from error
        except PlatformError as error:  # the shop address typed is not one
            messages.error(request, error.fix or error.message)
            return redirect("stores_home")
        return redirect(consent_url)


class StoreCallbackView(OrganizationViewMixin, View):
    """Where the platform sends the seller back (the app's registered redirect URL)."""

    read_permission = Perm.STORES_MANAGE

    def get(self, request: HttpRequest, platform: str) -> HttpResponse:
        name = services.platform_name(platform)
        if request.GET.get("error") or request.GET.get("code") in (None, "", "null"):
            messages.warning(request, f"The connection was cancelled on {name}. Nothing was changed.")
            return redirect("stores_home")
        try:
            result = services.store_connect_complete(
                session=request.session,
                organization=request.organization,
                actor=request.actor,
                platform=platform,
                code=request.GET["code"],
                state=request.GET.get("state", ""),
                callback={key: ",".join(request.GET.getlist(key)) for key in request.GET},
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("stores_home")
        except PlatformError as error:
            log.warning("store connection failed: %s", error)
            messages.error(request, f"{name} refused the connection ({error.message}). Please try again.")
            return redirect("stores_home")
        for store in result.connected:
            messages.success(request, f"{store.name} is connected. Its orders are being imported now.")
        for store in result.reconnected:
            messages.success(request, f"{store.name} is reconnected and syncing again.")
        for name in result.refused:
            messages.error(request, f"{name} belongs to another Dropline organization and was not connected here.")
        return redirect("stores_home")


class StoreDetailView(OrganizationViewMixin, UpdateView):
    template_name = "stores/detail.html"
    form_class = StorePolicyForm
    write_permission = Perm.STORES_MANAGE
    context_object_name = "store"

    def get_object(self, queryset: Any = None) -> Store:
        return get_object_or_404(Store.objects.select_related("authorization", "tiktok_settings"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(notifications=selectors.store_notification_health(store=self.object), **kwargs)

    def form_valid(self, form: StorePolicyForm) -> HttpResponse:
        services.store_policy_update(
            store=self.object,
            actor=self.request.actor,
            changes={name: form.cleaned_data[name] for name in form.changed_data},
        )
        messages.success(self.request, "Store settings saved.")
        return redirect("stores_detail", pk=self.object.pk)


class StoreSyncNowView(OrganizationViewMixin, View):
    write_permission = Perm.STORES_MANAGE

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        store = get_object_or_404(Store.objects, pk=pk)
        try:
            services.store_sync_request(store=store)
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
        else:
            messages.info(request, f"{store.name}: a sync was requested; new orders appear within a minute.")
        return redirect("stores_detail", pk=store.pk)


@method_decorator(csrf_exempt, name="dispatch")
class PlatformWebhookView(View):
    """Platforms POST notifications here. 401 unless signed; otherwise 200 quickly (the work is recorded)."""

    def post(self, request: HttpRequest, platform: str) -> HttpResponse:
        # The URL segment is the caller's: only a registered platform becomes a metric label.
        label = platform if platform in registry.registered_platforms() else "other"
        try:
            outcome = services.webhook_receive(
                platform=platform, raw_body=request.body, headers={k.lower(): v for k, v in request.headers.items()}
            )
        except services.WebhookRejected as error:
            log.warning("webhook refused (%s) from %s", error, request.META.get("REMOTE_ADDR"))
            webhook_in_observe(platform=label, outcome="rejected")
            return HttpResponse(status=401)
        ignored = outcome in (services.WEBHOOK_UNKNOWN_SHOP, services.WEBHOOK_DUPLICATE)  # logged where decided
        log.log(logging.DEBUG if ignored else logging.INFO, "webhook %s", outcome)
        webhook_in_observe(platform=label, outcome=WEBHOOK_OUTCOMES.get(outcome, "recorded"))
        return HttpResponse(status=200)


# What webhook_receive said, as a metric's outcome; anything else is "<topic> recorded".
WEBHOOK_OUTCOMES = {
    services.WEBHOOK_UNKNOWN_SHOP: "unknown_shop",
    services.WEBHOOK_DUPLICATE: "duplicate",
    services.WEBHOOK_INVALID: "invalid",
}
