"""Dashboard views of the core: sign-up, organizations, members, API keys, audit log. Thin: forms in, services out."""

import hmac
from datetime import datetime, time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from erp import clock, dashboard, health, lockout, selectors, services
from erp.forms import (
    APIKeyForm,
    AuditFilterForm,
    InviteForm,
    OrganizationForm,
    OrganizationSettingsForm,
    PasswordResetRequestForm,
    RoleForm,
    SignUpForm,
)
from erp.middleware import SESSION_KEY
from erp.models import APIKey, Invitation, Membership, Organization
from erp.roles import Perm, home_url_name
from erp.views_base import OrganizationViewMixin


def _form_errors_from(error: ValidationError, form: Any) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says: send them to the static one (hashed in production)."""
    return HttpResponseRedirect(static("favicon.ico"))


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: this process answers (erp/health.py says why nothing else is checked here)."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: every dependency, 503 when a required one is down."""
    checks = health.readiness()
    ready = all(check.ok for check in checks if check.required)
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": {
            c.name: {"ok": c.ok, "required": c.required, "detail": c.detail, "ms": c.milliseconds} for c in checks
        },
    }
    return JsonResponse(body, status=200 if ready else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus scrape: `Authorization: Bearer <METRICS_TOKEN>`. Without a token configured it is open only in
    development (DEBUG) and absent otherwise: operational figures are not for the public internet."""
    from prometheus_client import CONTENT_TYPE_LATEST

    from erp.metrics import exposition

    token = settings.METRICS_TOKEN
    if not token:
        if not settings.DEBUG:
            raise Http404("metrics are off: set METRICS_TOKEN")
    else:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            response = HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


# --------------------------------------------------------------------------------------------------- accounts
class SignUpView(FormView):
    template_name = "accounts/signup.html"
    form_class = SignUpForm

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["joining_by_invitation"] = self.invitation is not None
        if self.invitation is not None and self.request.method == "GET":
            kwargs["initial"] = {"email": self.invitation.email}
        return kwargs

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = request.GET.get("invitation", "")
        self.invitation = services.invitation_find(token=token) if token else None
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: SignUpForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            if self.invitation is not None:
                user = services.user_sign_up_by_invitation(
                    email=data["email"],
                    password=data["password"],
                    full_name=data["full_name"],
                    token=self.request.GET["invitation"],
                )
            else:
                # The same answer whether or not the address has an account (docs/adr/0013).
                services.user_sign_up_request(
                    email=data["email"],
                    password=data["password"],
                    full_name=data["full_name"],
                    organization_name=data["organization_name"],
                    base_url=self.request.build_absolute_uri("/").rstrip("/"),
                )
                return redirect("signup_sent")
        except ValidationError as error:
            _form_errors_from(error, form)
            return self.form_invalid(form)
        # A team member: the invitation email proved the address; their organization is set up; they land where
        # they work.
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        joined = self.invitation.organization_id
        membership = next(m for m in selectors.memberships_of_user(user=user) if m.organization_id == joined)
        self.request.session[SESSION_KEY] = str(joined)
        messages.success(self.request, f"Welcome to Dropline. You joined {membership.organization.name}.")
        return redirect(home_url_name(membership.permissions))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(invitation=self.invitation, **kwargs)


class SignUpSentView(TemplateView):
    """Where every self sign-up lands: one email went to the address, whatever it said (docs/adr/0013)."""

    template_name = "accounts/signup_sent.html"


class SignUpConfirmView(View):
    """The link in the confirmation email. GET only shows a button (mail scanners open links); POST confirms the
    address and signs in, which uses the link up."""

    def get(self, request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
        valid = services.user_sign_up_confirm_check(uidb64=uidb64, token=token) is not None
        return render(request, "accounts/signup_confirm.html", {"valid": valid}, status=200 if valid else 410)

    def post(self, request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
        user = services.user_sign_up_confirm(uidb64=uidb64, token=token)
        if user is None:
            return render(request, "accounts/signup_confirm.html", {"valid": False}, status=410)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to Dropline. Connect your first store to start importing orders.")
        return redirect("dashboard")


class PasswordResetRequestView(auth_views.PasswordResetView):
    """Django's reset view with a request budget per client address (the per-address budget is in the form)."""

    template_name = "accounts/password_reset.html"
    email_template_name = "emails/password_reset.txt"
    subject_template_name = "emails/password_reset_subject.txt"
    form_class = PasswordResetRequestForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not lockout.password_reset_ip_allowed(request=request):
            form = self.get_form()
            form.add_error(None, "Too many password-reset requests from your network. Try again in an hour.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)


class AccountUnlockView(View):
    """The link in the lockout email. GET only shows a button: mail scanners that open links must not use it up."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        valid = lockout.unlock_token_check(token=token) is not None
        context = {"valid": valid, "link_hours": settings.ACCOUNT_UNLOCK_LINK_MAX_AGE_HOURS}
        return render(request, "accounts/unlock.html", context, status=200 if valid else 410)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        if not lockout.account_unlock(token=token):
            context = {"valid": False, "link_hours": settings.ACCOUNT_UNLOCK_LINK_MAX_AGE_HOURS}
            return render(request, "accounts/unlock.html", context, status=410)
        messages.success(request, "Your account is unlocked. Sign in.")
        return redirect("login")


class InvitationView(View):
    """The link in an invitation email. Signed in as the invitee: accept. Otherwise: sign in or sign up first."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation = services.invitation_find(token=token)
        return render(request, "accounts/invitation.html", {"invitation": invitation, "token": token})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("invitation", token=token)
        request.session[SESSION_KEY] = str(membership.organization_id)
        messages.success(request, f"You joined {membership.organization.name}.")
        return redirect(home_url_name(membership.permissions))


class OrganizationCreateView(LoginRequiredMixin, FormView):
    template_name = "accounts/organization_create.html"
    form_class = OrganizationForm

    def form_valid(self, form: OrganizationForm) -> HttpResponse:
        organization = services.organization_create(name=form.cleaned_data["name"], owner=self.request.user)
        services.organization_update(
            organization=organization,
            actor=self.request.actor,
            name=organization.name,
            time_zone=form.cleaned_data["time_zone"],
        )
        self.request.session[SESSION_KEY] = str(organization.pk)
        messages.success(self.request, f"{organization.name} is ready. Connect a store to get started.")
        return redirect("dashboard")


class OrganizationSwitchView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest) -> HttpResponse:
        wanted = request.POST.get("organization", "")
        membership = next((m for m in request.memberships if str(m.organization_id) == wanted), None)
        if membership is None:
            return HttpResponseBadRequest("You are not a member of that organization.")
        request.session[SESSION_KEY] = wanted
        messages.info(request, f"Switched to {membership.organization.name}.")
        return redirect(home_url_name(membership.permissions))


# -------------------------------------------------------------------------------------------------- dashboard
class DashboardView(OrganizationViewMixin, TemplateView):
    template_name = "dashboard.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.membership and home_url_name(request.permissions) != "dashboard":  # suppliers: their portal
            return redirect(home_url_name(request.permissions))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            background_problem=health.background_problem(),
            cards=dashboard.cards_for(self.request),
            setup_steps=dashboard.setup_steps_for(self.request),
            member_count=selectors.members_list().count(),
            recent_activity=selectors.audit_entries()[:8] if Perm.AUDIT_VIEW in self.request.permissions else [],
            **kwargs,
        )


# --------------------------------------------------------------------------------------------------- settings
class OrganizationSettingsView(OrganizationViewMixin, FormView):
    template_name = "settings/organization.html"
    form_class = OrganizationSettingsForm
    write_permission = Perm.ORGANIZATION_MANAGE

    def get_form_kwargs(self) -> dict[str, Any]:
        # A copy: a bound ModelForm writes the posted values into its instance while validating, and the service
        # compares the organization as it was with what was posted (to save and audit only what changed).
        instance = Organization.objects.get(pk=self.request.organization.pk)
        return {**super().get_form_kwargs(), "instance": instance}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        recent = selectors.organization_exports_recent() if Perm.ORGANIZATION_EXPORT in self.request.permissions else []
        return super().get_context_data(
            exports=recent, export_valid_days=settings.ORGANIZATION_EXPORT_VALID_DAYS, **kwargs
        )

    def form_valid(self, form: OrganizationSettingsForm) -> HttpResponse:
        services.organization_update(
            organization=self.request.organization,
            actor=self.request.actor,
            name=form.cleaned_data["name"],
            time_zone=form.cleaned_data["time_zone"],
            slip_message=form.cleaned_data["slip_message"],
            unit_system=form.cleaned_data["unit_system"] or None,
            slip_logo=form.cleaned_data["slip_logo"],
            remove_slip_logo=form.cleaned_data["remove_slip_logo"],
        )
        messages.success(self.request, "Organization settings saved.")
        return redirect("settings_organization")


class SlipLogoView(OrganizationViewMixin, View):
    """The organization's packing-slip logo, for its settings page."""

    def get(self, request: HttpRequest) -> HttpResponse:
        logo = request.organization.slip_logo
        if not logo:
            raise Http404("No logo.")
        try:
            with logo.open("rb") as handle:
                data = handle.read()
        except FileNotFoundError as missing:  # the stored file is gone: upload it again
            raise Http404("The logo file is missing.") from missing
        content_type = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        return HttpResponse(data, content_type=content_type)


class MembersView(OrganizationViewMixin, FormView):
    template_name = "settings/members.html"
    form_class = InviteForm
    write_permission = Perm.MEMBERS_MANAGE

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "inviter_role": self.request.membership.role}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            members=selectors.members_list(), invitations=selectors.invitations_open(), role_form=RoleForm(), **kwargs
        )

    def form_valid(self, form: InviteForm) -> HttpResponse:
        accept_url = self.request.build_absolute_uri(reverse("invitation", kwargs={"token": "TOKEN"}))
        try:
            services.member_invite(
                organization=self.request.organization,
                actor=self.request.actor,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                accept_url_template=accept_url.replace("TOKEN", "{token}"),
            )
        except ValidationError as error:
            _form_errors_from(error, form)
            return self.form_invalid(form)
        messages.success(self.request, f"Invitation sent to {form.cleaned_data['email']}.")
        return redirect("settings_members")


class MemberRoleView(OrganizationViewMixin, View):
    write_permission = Perm.MEMBERS_MANAGE

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
        form = RoleForm(request.POST)
        if form.is_valid():
            try:
                services.member_change_role(
                    organization=request.organization,
                    actor=request.actor,
                    membership=membership,
                    role=form.cleaned_data["role"],
                )
                messages.success(request, f"{membership.user.email} is now {membership.get_role_display()}.")
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
        return redirect("settings_members")


class MemberRemoveView(OrganizationViewMixin, View):
    write_permission = Perm.MEMBERS_MANAGE

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
        try:
            services.member_remove(organization=request.organization, actor=request.actor, membership=membership)
            messages.success(request, f"{membership.user.email} was removed.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("settings_members")


class InvitationRevokeView(OrganizationViewMixin, View):
    write_permission = Perm.MEMBERS_MANAGE

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        invitation = get_object_or_404(Invitation.objects, pk=pk)
        services.invitation_revoke(organization=request.organization, actor=request.actor, invitation=invitation)
        messages.success(request, f"The invitation for {invitation.email} was revoked.")
        return redirect("settings_members")


class APIKeysView(OrganizationViewMixin, FormView):
    template_name = "settings/api_keys.html"
    form_class = APIKeyForm
    read_permission = Perm.API_KEYS_MANAGE
    write_permission = Perm.API_KEYS_MANAGE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(api_keys=APIKey.objects.select_related("created_by", "warehouse"), **kwargs)

    def form_valid(self, form: APIKeyForm) -> HttpResponse:
        try:
            api_key, raw_key = services.api_key_create(
                organization=self.request.organization,
                actor=self.request.actor,
                name=form.cleaned_data["name"],
                scopes=form.scopes(),
                scope=form.cleaned_data["scope"] or None,
                warehouse=form.cleaned_data["warehouse"],
            )
        except services.APIKeyRefused as refused:
            form.add_error(None, str(refused))
            return self.form_invalid(form)
        # Shown once, in this response only: never stored, never put in the session or a redirect.
        return self.render_to_response(self.get_context_data(form=APIKeyForm(), new_key=raw_key, new_key_row=api_key))


class APIKeyRevokeView(OrganizationViewMixin, View):
    write_permission = Perm.API_KEYS_MANAGE

    def post(self, request: HttpRequest, pk: str) -> HttpResponse:
        api_key = get_object_or_404(APIKey.objects, pk=pk)
        services.api_key_revoke(organization=request.organization, actor=request.actor, api_key=api_key)
        messages.success(request, f"{api_key} was revoked. Calls with it now fail.")
        return redirect("settings_api_keys")


class AuditLogView(OrganizationViewMixin, TemplateView):
    template_name = "settings/audit.html"
    read_permission = Perm.AUDIT_VIEW

    def get_template_names(self) -> list[str]:
        # The filters swap only the results in place (HTMX); a full load or a shared link renders the whole page.
        return ["settings/_audit_results.html"] if self.request.htmx else [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = AuditFilterForm(self.request.GET or None)
        entries = selectors.audit_entries()
        if form.is_valid():
            data = form.cleaned_data
            tz = clock.organization_zone(self.request.organization)  # the days of the organization (docs/time.md)
            if data["action"]:
                entries = entries.filter(action__startswith=data["action"])
            if data["actor"]:
                entries = entries.filter(actor_label__icontains=data["actor"])
            if data["target_type"]:
                entries = entries.filter(target_type=data["target_type"])
            if data["since"]:
                entries = entries.filter(created_at__gte=datetime.combine(data["since"], time.min, tzinfo=tz))
            if data["until"]:
                entries = entries.filter(created_at__lte=datetime.combine(data["until"], time.max, tzinfo=tz))
        page = Paginator(entries, 50).get_page(self.request.GET.get("page"))
        actions = selectors.audit_entries().order_by().values_list("action", flat=True).distinct()
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            form=form, page=page, actions=sorted(actions), querystring=query.urlencode(), **kwargs
        )
