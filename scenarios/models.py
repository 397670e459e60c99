"""Scenario library: scenarios, their immutable revisions, and screen-check reference images.

A ``ScenarioRevision`` is never edited after it is saved: runs snapshot the revision they ran,
so history, re-runs and comparisons stay exact. Only text the engine's loader accepts is saved.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from atp_core.orchestrator.schema import TAG_MAX_LENGTH


class Tag(models.Model):
    """One label of the library, shared by scenarios and reference images, matched exactly.

    Names are trimmed, non-empty and at most TAG_MAX_LENGTH characters (the scenario loader's
    rule, atp_core.orchestrator.schema); ``scenarios.services.set_tags`` is the one writer."""

    name = models.CharField(max_length=TAG_MAX_LENGTH, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TaggedMixin:
    """``tags``: the names of the row's tags, sorted (from the prefetch cache when loaded)."""

    @property
    def tags(self) -> list[str]:
        return [tag.name for tag in self.tagged_with.all()]


class Scenario(TaggedMixin, models.Model):
    name = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    tagged_with = models.ManyToManyField(
        Tag, blank=True, related_name="scenarios", help_text="from the scenario's tags:"
    )
    current_revision = models.ForeignKey(
        "ScenarioRevision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="the newest revision",
    )
    archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScenarioRevision(models.Model):
    """One saved version of a scenario's text: who, when, what changed against the previous."""

    FORMAT_YAML = "yaml"
    FORMAT_JSON = "json"

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    content = models.TextField()
    format = models.CharField(max_length=8, default=FORMAT_YAML)
    content_sha256 = models.CharField(max_length=64)
    parsed = models.JSONField(null=True, blank=True, help_text="the validated scenario as JSON")
    diff = models.TextField(blank=True, help_text="unified diff against the previous revision")
    message = models.CharField(max_length=255, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scenario", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "number"], name="unique_revision_number")
        ]

    def __str__(self) -> str:
        return f"{self.scenario.name}@{self.number}"


class ReferenceImage(TaggedMixin, models.Model):
    """A screen-check reference ("needle"): a full screenshot plus the areas that must match.

    ``areas`` is a list of ``{"x", "y", "width", "height", "type": "match"|"exclude",
    "threshold"?: float}`` in screenshot pixels; steps refer to a reference by ``name``.
    """

    name = models.SlugField(max_length=120, unique=True)
    tagged_with = models.ManyToManyField(Tag, blank=True, related_name="references")
    image = models.ImageField(upload_to="references/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    areas = models.JSONField(default=list, blank=True)
    threshold = models.FloatField(default=0.96, help_text="similarity 0-1 needed to match")
    source = models.CharField(max_length=255, blank=True, help_text="screenshot origin")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReferenceCandidate(models.Model):
    """Another image of the same reference (like an openQA needle tag): the same screen in
    another look (theme, resolution, language). A check of the reference passes when the
    reference's own image or any candidate matches, and the run report names the one that
    did. ``areas`` empty: the reference's areas (and threshold) apply to this image too."""

    reference = models.ForeignKey(
        ReferenceImage, on_delete=models.CASCADE, related_name="candidates"
    )
    label = models.SlugField(max_length=60)
    image = models.ImageField(upload_to="references/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    areas = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=255, blank=True, help_text="screenshot origin")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reference", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "label"], name="unique_reference_candidate_label"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference.name}@{self.label}"


class ScenarioSecret(models.Model):
    """A named secret scenarios use as ``${secret.NAME}`` (a VDI login password, say).

    The value is stored encrypted (hosts.secrets: Fernet keyed from SECRET_KEY), managed by
    admins, never shown after saving, and masked (***) in everything a run shows."""

    name = models.CharField(max_length=64, unique=True)
    value_encrypted = models.TextField(editable=False)
    description = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
