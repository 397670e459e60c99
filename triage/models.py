"""Triage of failed runs: comments, bug references and failure labels on a run or a failed step."""

from __future__ import annotations

from django.conf import settings
from django.db import models

LABELS = [
    ("product_bug", "product bug"),
    ("test_bug", "test bug"),
    ("infrastructure", "infrastructure"),
]


class Note(models.Model):
    """One person's word on a run (``step_id`` empty) or on one failed step of a target."""

    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="notes")
    target = models.CharField(max_length=255, blank=True)
    step_id = models.CharField(max_length=64, blank=True, help_text='plan id; "" = the run')
    comment = models.TextField(blank=True)
    bug_ref = models.CharField(max_length=255, blank=True, help_text="URL or PROJ-123")
    label = models.CharField(max_length=32, blank=True, choices=LABELS)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["step_id", "-created"], name="note_step_created")]

    def __str__(self) -> str:
        return f"note on run {self.run_id} {self.step_id or ''}".strip()
