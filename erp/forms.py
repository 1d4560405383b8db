from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.template import loader

from erp.inputs import DayField
from erp.models import TIME_ZONE_CHOICES, APIKey, Organization
from erp.roles import ROLE_RANK, SCOPE_PERMISSIONS, Access, APIKeyScope, ResourceFamily, Role, scope_name
from erp.units import UnitSystem


class SignUpForm(forms.Form):
    full_name = forms.CharField(max_length=150, required=False, label="Your name")
    email = forms.EmailField(label="Work email")
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters, not only digits, not a common password.",
    )
    organization_name = forms.CharField(
        max_length=120, label="Business name", help_text="The seller business you ship for. You can add more later."
    )

    def __init__(self, *args: Any, joining_by_invitation: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if joining_by_invitation:
            del self.fields["organization_name"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password"):
            try:
                password_validation.validate_password(cleaned["password"])
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class PasswordResetRequestForm(PasswordResetForm):
    """Django's reset form, answering the same way whether or not the address has an account: one email either way,
    both sent through the worker (so the page takes as long either way), and nothing over the address's budget."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        from erp.lockout import email_send_now_or_queue

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        email_send_now_or_queue(to=[to_email], subject=subject, body=body)

    def save(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        from erp.lockout import email_send_now_or_queue, password_reset_allowed

        email = self.cleaned_data["email"]
        if not password_reset_allowed(email=email):
            return  # silently: the page says "if an account exists we sent a link" either way
        if any(True for _ in self.get_users(email)):
            super().save(*args, request=request, **kwargs)
            return
        signup_url = request.build_absolute_uri("/accounts/signup/") if request is not None else "/accounts/signup/"
        email_send_now_or_queue(
            to=[email],
            subject="Dropline password reset",
            body=loader.render_to_string("emails/password_reset_unknown.txt", {"signup_url": signup_url}),
        )


class OrganizationForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=TIME_ZONE_CHOICES,
        help_text="Deadlines and times on pages, printouts, exports and emails are shown in this time zone, named. "
        "A warehouse's cut-off and pickup slots are in the warehouse's own zone.",
    )

    class Meta:
        model = Organization
        fields = ["name", "time_zone"]


class OrganizationSettingsForm(OrganizationForm):
    """The settings page: the organization, plus what its packing slips carry."""

    slip_logo = forms.FileField(
        label="Logo on packing slips",
        required=False,
        help_text="PNG or JPEG, up to 1 MB. Printed in black and white at the top of each slip.",
    )
    remove_slip_logo = forms.BooleanField(label="Remove the logo", required=False)
    unit_system = forms.ChoiceField(
        label="Units",
        choices=UnitSystem.choices,
        required=False,  # not sent: left as it is
        help_text="Weights and sizes in logistics rules and new SKUs. Changing it changes no rule, only how it reads.",
    )

    class Meta:
        model = Organization
        fields = ["name", "time_zone", "unit_system", "slip_message"]
        labels = {"slip_message": "Message on packing slips"}

    def clean_slip_logo(self) -> Any:
        upload = self.cleaned_data.get("slip_logo")
        if not upload:
            return None
        if upload.size > 1024 * 1024:
            raise ValidationError("The logo is larger than 1 MB: use a smaller image.")
        head = upload.read(8)
        upload.seek(0)
        if not head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            raise ValidationError("The logo must be a PNG or JPEG image.")
        return upload


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.OPERATOR)

    def __init__(self, *args: Any, inviter_role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [
            (value, label) for value, label in Role.choices if ROLE_RANK[Role(value)] <= ROLE_RANK[Role(inviter_role)]
        ]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


_FAMILY_LABELS = {
    ResourceFamily.ORGANIZATION: "Organization and members",
    ResourceFamily.AUDIT: "Audit log",
    ResourceFamily.STORES: "Stores",
    ResourceFamily.ORDERS: "Orders",
    ResourceFamily.CATALOG: "SKUs, listings and mapping",
    ResourceFamily.INVENTORY: "Warehouses, stock, receipts and the ledger",
    ResourceFamily.RULES: "Logistics rules",
    ResourceFamily.LABELS: "Quotes, label batches and documents",
    ResourceFamily.HANDOFFS: "Supplier handoffs",
    ResourceFamily.AFTERSALES: "Cancellations and returns",
    ResourceFamily.REPORTS: "Compliance and at-risk reports",
    ResourceFamily.WEBHOOKS: "Webhook subscriptions",
}


class APIKeyForm(forms.Form):
    """A name, then read / read and write / nothing per resource family (erp.roles.SCOPE_PERMISSIONS), and for a
    supplier's or 3PL's system the one warehouse it serves."""

    name = forms.CharField(max_length=80, help_text="Which system uses it, e.g. “ShipHero WMS”.")
    scope = forms.ChoiceField(
        label="Quick choice",
        choices=[("", "Choose per area below"), *APIKeyScope.choices],
        required=False,
        help_text="Adds to what is chosen below. The audit log and writing rules or webhooks are always chosen below.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for family, grants in SCOPE_PERMISSIONS.items():
            choices = [("", "No access"), (scope_name(family, Access.READ), "Read")]
            if Access.WRITE in grants:
                choices.append((scope_name(family, Access.WRITE), "Read and write"))
            self.fields[f"scope_{family.value}"] = forms.ChoiceField(
                label=_FAMILY_LABELS[family], choices=choices, required=False
            )
        # The warehouse model is reached through the key's own field: erp imports nothing from inventory.
        warehouses = APIKey._meta.get_field("warehouse").related_model._default_manager  # type: ignore[union-attr]
        self.fields["warehouse"] = forms.ModelChoiceField(
            queryset=warehouses.filter(kind__in=("3pl", "supplier")).order_by("name"),
            required=False,
            empty_label="Any (the seller's own system)",
            help_text="A supplier's or 3PL's system: the key sees only this warehouse's handoffs and their orders.",
        )

    def scopes(self) -> list[str]:
        return [value for name, value in self.cleaned_data.items() if name.startswith("scope_") and value]


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False)
    actor = forms.CharField(required=False)
    target_type = forms.CharField(required=False)
    since = DayField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = DayField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class OrganizationDeleteForm(forms.Form):
    confirmation = forms.CharField(
        max_length=120,
        label="Type the organization's name to confirm",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
