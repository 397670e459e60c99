"""Schedules (periodic runs of a scenario) and where run results are sent (notification hooks).

A ``Schedule`` owns one django-celery-beat ``PeriodicTask`` (task ``schedules.launch``) that beat's
DatabaseScheduler fires; ``services.save_schedule`` keeps the two in step.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from runs.models import RETRIES_MAX


class Schedule(models.Model):
    KIND_INTERVAL = "interval"
    KIND_CRONTAB = "crontab"
    KIND_CHOICES = [(KIND_INTERVAL, "every (interval)"), (KIND_CRONTAB, "crontab")]

    name = models.SlugField(max_length=120, unique=True)
    scenario = models.ForeignKey(
        "scenarios.Scenario", on_delete=models.CASCADE, related_name="schedules"
    )
    targets = models.JSONField(
        default=list, blank=True, help_text="as for a launch; empty: the scenario's targets"
    )
    variables = models.JSONField(default=dict, blank=True)
    build = models.CharField(
        max_length=120,
        blank=True,
        help_text="build label of its runs; {date} becomes the launch's UTC date (YYYY-MM-DD)",
    )
    retries = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(RETRIES_MAX)],
        help_text=f"new attempts of each run after a lost worker (0-{RETRIES_MAX})",
    )
    kind = models.CharField(max_length=16, choices=KIND_CHOICES, default=KIND_INTERVAL)
    every_seconds = models.PositiveIntegerField(null=True, blank=True)
    crontab = models.CharField(
        max_length=120, blank=True, help_text="minute hour day-of-month month day-of-week (UTC)"
    )
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="atp_schedule",
    )
    last_launched = models.DateTimeField(null=True, blank=True)
    last_run = models.ForeignKey(
        "runs.Run", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def when(self) -> str:
        """Human description of the timing."""
        if self.kind == self.KIND_CRONTAB:
            return f"cron {self.crontab} (UTC)"
        return f"every {format_seconds(self.every_seconds or 0)}"


def format_seconds(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class NotificationHook(models.Model):
    """Send finished runs' results to a webhook URL and/or e-mail addresses."""

    name = models.SlugField(max_length=120, unique=True)
    scenario = models.ForeignKey(
        "scenarios.Scenario",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification_hooks",
        help_text="empty: every scenario",
    )
    url = models.URLField(max_length=500, blank=True, help_text="POST JSON here")
    secret_encrypted = models.TextField(blank=True, editable=False)
    emails = models.TextField(blank=True, help_text="comma separated addresses")
    results = models.JSONField(
        default=list, blank=True, help_text="only these results (empty: every result)"
    )
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def set_secret(self, raw: str) -> None:
        """The signing secret (HMAC-SHA256 of the body); stored encrypted, never shown."""
        from hosts.secrets import encrypt_secret

        self.secret_encrypted = encrypt_secret(raw) if raw else ""

    def get_secret(self) -> str:
        from hosts.secrets import decrypt_secret

        return decrypt_secret(self.secret_encrypted) if self.secret_encrypted else ""

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    @property
    def masked_url(self) -> str:
        from runs.webhooks import mask_url

        return mask_url(self.url) if self.url else ""

    @property
    def email_list(self) -> list[str]:
        return [a.strip() for a in self.emails.replace(";", ",").split(",") if a.strip()]


class Notification(models.Model):
    """One delivery (webhook URL or e-mail) of a finished run; at most one per address."""

    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=16)  # webhook | email
    target = models.CharField(max_length=500)
    ok = models.BooleanField(null=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    detail = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    @property
    def masked_target(self) -> str:
        if self.channel != "webhook":
            return self.target
        from runs.webhooks import mask_url

        return mask_url(self.target)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "channel", "target"], name="unique_notification_per_run"
            )
        ]
