"""Admin of runs: read-mostly views for support (the dashboard is the main UI)."""

from django.contrib import admin

from .models import Artifact, Run, RunEvent, RunTarget, StepResult


class RunTargetInline(admin.TabularInline):
    model = RunTarget
    extra = 0
    fields = ("ordinal", "name", "vm_name", "host_uri", "state", "result", "started", "finished")
    readonly_fields = fields
    can_delete = False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "state", "result", "launched_by", "created", "worker", "queue")
    list_filter = ("state", "result", "queue")
    search_fields = ("name", "reason", "worker")
    raw_id_fields = ("scenario", "revision", "launched_by", "rerun_of")
    readonly_fields = ("last_seq", "heartbeat", "task_id", "created")
    inlines = [RunTargetInline]
    list_select_related = ("launched_by",)


@admin.register(StepResult)
class StepResultAdmin(admin.ModelAdmin):
    list_display = ("run", "target", "step_id", "iteration", "name", "type", "status", "duration")
    list_filter = ("status", "type")
    raw_id_fields = ("run", "target")


@admin.register(RunEvent)
class RunEventAdmin(admin.ModelAdmin):
    list_display = ("run", "seq", "type", "target", "step_id", "created")
    list_filter = ("type",)
    raw_id_fields = ("run",)


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ("run", "name", "kind", "mime", "size", "created")
    list_filter = ("kind",)
    raw_id_fields = ("run", "target")
