from django.apps import AppConfig


class ErpConfig(AppConfig):
    name = "erp"
    verbose_name = "Dropline core"

    def ready(self) -> None:
        from erp import checks  # noqa: F401  (registers the system checks)
        from erp.error_reporting import error_reporting_init

        error_reporting_init()  # Sentry, only when SENTRY_DSN is set
