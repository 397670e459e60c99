"""Django project of OCloudView ATP: settings, ASGI (HTTP + websockets) and the Celery app."""

from .celery import app as celery_app

__all__ = ("celery_app",)
