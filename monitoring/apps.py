from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        # Registers the limits tasks with Celery (autodiscovery reads tasks.py only).
        from monitoring import limits  # noqa: F401
