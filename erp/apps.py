from django.apps import AppConfig


class ErpConfig(AppConfig):
    name = "erp"
    verbose_name = "Dropline core"

    def ready(self) -> None:
        from erp import checks  # noqa: F401  (registers the system checks)
