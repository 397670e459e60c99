"""Runs: one execution of a scenario revision on its targets, with steps, events and artifacts.

The event store (``runs.event_store``) is the only writer of ``RunEvent``; it numbers events
with ``Run.last_seq`` so every client (websocket or polling) can resume after the last one seen.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from atp_core.status import Result, RunState, StepStatus

OUTPUT_CAP = 64 * 1024
BUILD_MAX = 120
RETRIES_MAX = 10  # a launch's new attempts after a lost worker (Run.max_attempts - 1)
NOT_IN_LOOP = -1


def text_choices(vocabulary: type[RunState | Result | StepStatus]) -> type[models.TextChoices]:
    """Django choices of one of the engine's status enums (same values, same labels)."""
    members = [(m.name, (m.value, m.label)) for m in vocabulary]
    return models.TextChoices(f"{vocabulary.__name__}Choices", members)


RunStateChoices = text_choices(RunState)
ResultChoices = text_choices(Result)
StepStatusChoices = text_choices(StepStatus)


class Run(models.Model):
    scenario = models.ForeignKey(
        "scenarios.Scenario", on_delete=models.PROTECT, related_name="runs"
    )
    revision = models.ForeignKey(
        "scenarios.ScenarioRevision", on_delete=models.PROTECT, related_name="runs"
    )
    source = models.TextField(help_text="the scenario text at launch: what the worker runs")
    name = models.CharField(max_length=120, help_text="scenario name at launch")
    targets = models.JSONField(default=list, blank=True, help_text="targets as requested")
    variables = models.JSONField(default=dict, blank=True)
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
    )
    state = models.CharField(
        max_length=16, choices=RunStateChoices.choices, default=RunState.QUEUED, db_index=True
    )
    result = models.CharField(
        max_length=16, choices=ResultChoices.choices, null=True, blank=True, db_index=True
    )
    reason = models.TextField(blank=True, help_text="why the run errored or was cancelled")
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True, db_index=True)
    queue = models.CharField(max_length=128, blank=True, help_text="Celery queue, host.<name>")
    worker = models.CharField(max_length=255, blank=True, help_text="Celery worker hostname")
    worker_env = models.ForeignKey(
        "WorkerEnvironment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        help_text="what the worker that claimed it runs on (Python, libvirt, package versions)",
    )
    task_id = models.CharField(max_length=64, blank=True, help_text="the latest send's task id")
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="when its task was last sent (the reaper's clock)"
    )
    cancel_requested = models.BooleanField(default=False)
    heartbeat = models.DateTimeField(null=True, blank=True, db_index=True)
    attempt = models.PositiveIntegerField(default=1)
    max_attempts = models.PositiveIntegerField(default=1)
    last_seq = models.PositiveIntegerField(default=0)
    totals = models.JSONField(default=dict, blank=True)
    rerun_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reruns"
    )
    schedule = models.ForeignKey(
        "schedules.Schedule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        help_text="the schedule that launched it",
    )
    schedule_name = models.CharField(
        max_length=120,
        blank=True,
        help_text="the schedule's name at launch: history keeps it after a rename or delete",
    )
    build = models.CharField(
        max_length=BUILD_MAX,
        blank=True,
        help_text="the build under test (a product version, a CI build number), given at launch",
    )
    vdi_endpoint = models.CharField(
        max_length=64, blank=True, help_text="VDI endpoint the run's VDI steps use (by name)"
    )
    pause_on = models.CharField(
        max_length=80,
        blank=True,
        help_text="developer mode, given at launch: failure, mismatch or step:<id> "
        "(empty: the scenario's own pause_on)",
    )

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["scenario", "-created"], name="run_scenario_created"),
            # the matrix page groups the runs of each build by scenario
            models.Index(
                fields=["build", "scenario"],
                include=["id", "result", "state"],
                condition=~models.Q(build=""),
                name="run_build_scenario",
            ),
            # the trends page reads the window's finished runs from this index alone
            models.Index(
                fields=["finished"],
                include=["id", "scenario", "name", "result"],
                condition=models.Q(state=RunState.FINISHED),
                name="run_finished_trend",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.name}"

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish (or None if it never started or has not finished)."""
        if self.started and self.finished:
            return (self.finished - self.started).total_seconds()
        return None

    @property
    def is_active(self) -> bool:
        return self.state != RunState.FINISHED

    @property
    def group_name(self) -> str:
        return f"run_{self.pk}"

    def get_absolute_url(self) -> str:
        try:
            return reverse("runs:detail", args=[self.pk])
        except NoReverseMatch:
            return f"/runs/{self.pk}/"


class WorkerEnvironment(models.Model):
    """One distinct set of what a worker runs on, shared by every run claimed with it:
    ``facts`` = ``{"python", "platform", "libvirt", "packages": {name: version}}``."""

    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the facts")
    facts = models.JSONField(default=dict)
    first_seen = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"worker environment {self.digest[:12]}"


class RunPart(models.Model):
    """The share of a run on one of its hosts, when its targets sit on several.

    Each part is sent to its host's queue (``host.<name>``), claimed against that host's slots,
    heartbeated and ended on its own; ``runs.lifecycle`` is the only writer of its state,
    result and times, as of the run's. The run ends when its last part ends, with the worst of
    the parts' results. A run whose targets are on one host has no parts (``Run`` alone)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="parts")
    host = models.ForeignKey(
        "hosts.Host", on_delete=models.SET_NULL, null=True, blank=True, related_name="run_parts"
    )
    host_name = models.CharField(max_length=120, help_text="the host's name at launch")
    queue = models.CharField(max_length=128, help_text="Celery queue, host.<name>")
    state = models.CharField(
        max_length=16, choices=RunStateChoices.choices, default=RunState.QUEUED, db_index=True
    )
    result = models.CharField(max_length=16, choices=ResultChoices.choices, null=True, blank=True)
    reason = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True, help_text="the latest send's task id")
    worker = models.CharField(max_length=255, blank=True, help_text="Celery worker hostname")
    attempt = models.PositiveIntegerField(
        default=1, help_text="a part whose worker died starts again while the run has attempts"
    )
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="when this attempt began to wait for a worker"
    )
    taken_at = models.DateTimeField(
        null=True, blank=True, help_text="when a worker last took its task (claimed or not)"
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    totals = models.JSONField(default=dict, blank=True, help_text="the engine's, of this part")

    class Meta:
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "host_name"], name="unique_part_host_per_run"),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} on {self.host_name}"


class RunTarget(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="run_targets")
    name = models.CharField(max_length=255, help_text="display name, host/vm")
    vm = models.ForeignKey(
        "hosts.VirtualMachine",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="run_targets",
    )
    host = models.ForeignKey(
        "hosts.Host", on_delete=models.SET_NULL, null=True, blank=True, related_name="run_targets"
    )
    vm_name = models.CharField(max_length=255)
    host_uri = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=16, default=RunState.QUEUED)
    result = models.CharField(max_length=16, null=True, blank=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    totals = models.JSONField(default=dict, blank=True)
    ordinal = models.PositiveIntegerField(default=0)
    domain_xml = models.TextField(
        blank=True, help_text="the VM's libvirt domain XML when the run started (capped)"
    )
    boot_id = models.CharField(
        max_length=64, blank=True, help_text="the guest kernel's boot id when the run started"
    )
    part = models.ForeignKey(
        RunPart,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="targets",
        help_text="the part that runs it (a run on several hosts); none on one host",
    )

    class Meta:
        ordering = ["run", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["run", "name"], name="unique_target_name_per_run"),
        ]
        indexes = [
            # the trends page's pass rate per host reads the window's targets from this index
            models.Index(
                fields=["finished"],
                include=["id", "host", "result"],
                condition=models.Q(state=RunState.FINISHED),
                name="target_finished_trend",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> float | None:
        if self.started and self.finished:
            return (self.finished - self.started).total_seconds()
        return None


class StepResult(models.Model):
    PHASE_CHOICES = [("main", "main"), ("finally", "finally")]

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    target = models.ForeignKey(RunTarget, on_delete=models.CASCADE, related_name="steps")
    step_id = models.CharField(max_length=64, help_text='plan id, e.g. "3.1" or "F1"')
    iteration = models.IntegerField(default=NOT_IN_LOOP, help_text="loop index; -1 outside loops")
    ordinal = models.PositiveIntegerField(default=0, help_text="plan order")
    name = models.CharField(max_length=255, blank=True)
    type = models.CharField(max_length=64, blank=True)
    depth = models.PositiveIntegerField(default=0)
    phase = models.CharField(max_length=8, choices=PHASE_CHOICES, default="main")
    status = models.CharField(
        max_length=16, choices=StepStatusChoices.choices, default=StepStatus.PENDING
    )
    attempt = models.PositiveIntegerField(default=0)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    output = models.TextField(blank=True, help_text="capped at 64 KiB")
    metrics = models.JSONField(
        default=dict, blank=True, help_text="measured experience: latency (s), action, ..."
    )

    class Meta:
        ordering = ["target", "ordinal", "iteration"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "step_id", "iteration"], name="unique_step_per_target"
            ),
        ]
        indexes = [models.Index(fields=["run", "status"], name="step_run_status")]

    def __str__(self) -> str:
        return f"{self.step_id} {self.name}"

    @staticmethod
    def cap_output(text: str) -> str:
        """``text`` cut to 64 KiB (UTF-8), with a note saying how much was cut."""
        if not text:
            return ""
        raw = text.encode("utf-8", "replace")
        if len(raw) <= OUTPUT_CAP:
            return text
        kept = raw[: OUTPUT_CAP - 200].decode("utf-8", "ignore")
        return f"{kept}\n[output cut: {len(raw)} bytes, first {len(kept.encode())} kept]"


class RunEvent(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=32)
    target = models.CharField(max_length=255, blank=True)
    step_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now, help_text="when the engine emitted it")

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="unique_event_seq")]
        indexes = [models.Index(fields=["run", "seq"], name="event_run_seq")]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.type}"

    def to_client(self) -> dict:
        """The event as sent to browsers and API clients."""
        return {
            "seq": self.seq,
            "type": self.type,
            "ts": self.created.timestamp() if self.created else None,
            "target": self.target,
            "step_id": self.step_id,
            "data": self.payload,
        }


class Artifact(models.Model):
    KIND_CHOICES = [(k, k) for k in ("screenshot", "diff", "file", "report", "log")]

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="artifacts")
    target = models.ForeignKey(
        RunTarget, on_delete=models.CASCADE, null=True, blank=True, related_name="artifacts"
    )
    step_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=KIND_CHOICES, default="file")
    file = models.FileField(upload_to="runs/%Y/%m/%d/", max_length=255)
    mime = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "created", "id"]

    def __str__(self) -> str:
        return self.name


class CapacityRun(models.Model):
    """One capacity run on a host (``atp_core.orchestrator.capacity``): desks copied from a
    template VM started one step at a time until the p95 latency rises ``threshold`` above the
    one-desk baseline. Its life is written by ``runs.capacity_lifecycle`` alone, like a run's:
    state (queued/running/finished) apart from result (passed: a capacity was measured;
    error: none could be, with the reason; cancelled)."""

    host = models.ForeignKey(
        "hosts.Host", on_delete=models.SET_NULL, null=True, related_name="capacity_runs"
    )
    host_name = models.CharField(max_length=64, help_text="the host's name at launch")
    host_uri = models.CharField(max_length=255)
    template = models.CharField(max_length=255, help_text="the VM each desk is a copy of")
    max_desks = models.PositiveIntegerField()
    keys = models.PositiveIntegerField(help_text="measured keys per desk and step")
    threshold = models.FloatField(default=0.15, help_text="p95 rise over the baseline that stops")
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="capacity_runs",
    )
    state = models.CharField(
        max_length=16, choices=RunStateChoices.choices, default=RunState.QUEUED, db_index=True
    )
    result = models.CharField(max_length=16, choices=ResultChoices.choices, null=True, blank=True)
    reason = models.TextField(blank=True, help_text="why the run stopped")
    capacity = models.PositiveIntegerField(null=True, blank=True)
    at_least = models.BooleanField(default=False, help_text="max_desks held: at least capacity")
    baseline_p95 = models.FloatField(null=True, blank=True, help_text="one desk, seconds")
    verdict = models.CharField(max_length=255, blank=True, help_text='"capacity: N desks on ..."')
    steps = models.JSONField(
        default=list, blank=True, help_text="per step: desks, inputs, p50, p95 (s), ratio"
    )
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    queue = models.CharField(max_length=128, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"capacity run {self.pk} on {self.host_name}"

    @property
    def is_active(self) -> bool:
        return self.state != RunState.FINISHED

    @property
    def duration(self) -> float | None:
        if self.started and self.finished:
            return (self.finished - self.started).total_seconds()
        return None

    def get_absolute_url(self) -> str:
        return reverse("runs:capacity_detail", args=[self.pk])
