"""Settings → Webhooks: endpoints with their health, the delivery log, redelivery, test event, rotation, enable,
disable, delete. Thin: every write is a webhooks.services call, as in the API."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import FormView, TemplateView

from erp.roles import Perm
from erp.views_base import OrganizationViewMixin
from webhooks import services
from webhooks.forms import EndpointForm
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

LOG_ROWS = 100


class WebhooksView(OrganizationViewMixin, FormView):
    template_name = "settings/webhooks.html"
    form_class = EndpointForm
    read_permission = Perm.WEBHOOKS_MANAGE
    write_permission = Perm.WEBHOOKS_MANAGE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(endpoints=WebhookEndpoint.objects.order_by("created_at"), **kwargs)

    def form_valid(self, form: EndpointForm) -> HttpResponse:
        try:
            endpoint, secret = services.endpoint_create(
                organization=self.request.organization,  # type: ignore[attr-defined]  # set by the middleware
                actor=self.request.actor,  # type: ignore[attr-defined]
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        # Shown once, in this response only.
        return self.render_to_response(self.get_context_data(form=EndpointForm(), new_secret=secret, new=endpoint))


class WebhookEndpointView(OrganizationViewMixin, TemplateView):
    """One endpoint: its delivery log (newest first) and every action on it."""

    template_name = "settings/webhook_endpoint.html"
    read_permission = Perm.WEBHOOKS_MANAGE
    write_permission = Perm.WEBHOOKS_MANAGE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        endpoint = get_object_or_404(WebhookEndpoint.objects, pk=self.kwargs["pk"])
        deliveries = (
            WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event").order_by("-id")[:LOG_ROWS]
        )
        return super().get_context_data(endpoint=endpoint, deliveries=deliveries, statuses=DeliveryStatus, **kwargs)

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        endpoint = get_object_or_404(WebhookEndpoint.objects, pk=pk)
        action = request.POST.get("action", "")
        actor = request.actor  # type: ignore[attr-defined]
        if action == "rotate":
            secret = services.endpoint_rotate_secret(endpoint=endpoint, actor=actor)
            return self.render_to_response(self.get_context_data(new_secret=secret))
        if action == "test":
            services.endpoint_test(endpoint=endpoint, actor=actor)
            messages.success(request, "A ping event is on its way: it appears in the log below.")
        elif action == "disable":
            services.endpoint_disable(endpoint=endpoint, actor=actor)
            messages.success(request, "Disabled: nothing is sent to it until you enable it.")
        elif action == "enable":
            services.endpoint_enable(endpoint=endpoint, actor=actor)
            messages.success(request, "Enabled: the deliveries that waited are on their way.")
        elif action == "redeliver":
            chosen = [value for value in request.POST.getlist("delivery") if _is_uuid(value)]
            failed = request.POST.get("all_failed") == "1"
            count = services.deliveries_redeliver(
                endpoint=endpoint,
                actor=actor,
                delivery_ids=None if failed else chosen,
                status=DeliveryStatus.FAILED if failed else None,
            )
            messages.success(request, f"{count} deliver{'y' if count == 1 else 'ies'} will be sent again.")
        else:
            messages.error(request, "Unknown action.")
        return redirect("settings_webhook_endpoint", pk=endpoint.pk)


class WebhookEndpointDeleteView(OrganizationViewMixin, View):
    write_permission = Perm.WEBHOOKS_MANAGE

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        endpoint = get_object_or_404(WebhookEndpoint.objects, pk=pk)
        services.endpoint_delete(endpoint=endpoint, actor=request.actor)  # type: ignore[attr-defined]
        messages.success(request, f"{endpoint.url} was deleted: nothing more is sent to it.")
        return redirect("settings_webhooks")


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
