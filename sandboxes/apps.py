from django.apps import AppConfig


class SandboxesConfig(AppConfig):
    """Registered only so `manage.py tiktok_sandbox` exists. The sandbox code itself (sandboxes/tiktok/) imports
    nothing from Django or Dropline: it stands in for another company's server."""

    name = "sandboxes"
    verbose_name = "Platform sandboxes"
