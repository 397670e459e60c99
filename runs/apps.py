from django.apps import AppConfig
from django.db.models.signals import pre_save


def _no_nul_in_text(sender, instance, **kwargs):
    """PostgreSQL refuses NUL in text and JSON: replace it in every text/JSON field saved."""
    from django.db import models

    from atp_core.text import without_nul

    for field in sender._meta.concrete_fields:
        if isinstance(field, models.CharField | models.TextField | models.JSONField):
            value = getattr(instance, field.attname)
            if isinstance(value, str | dict | list):
                setattr(instance, field.attname, without_nul(value))


class RunsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "runs"

    def ready(self) -> None:
        for model in self.get_models():
            pre_save.connect(_no_nul_in_text, sender=model, dispatch_uid=f"no-nul-{model.__name__}")
