"""The parts table of a run on several hosts, as a fragment the run page refreshes when a
part changes (``static/runs/parts.js``)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from . import part_status
from .models import Run


@require_GET
def run_parts(request, run_id: int):
    run = get_object_or_404(Run.objects.only("id", "created", "max_attempts"), pk=run_id)
    return render(request, "runs/_run_parts.html", {"run": run, "parts": part_status.describe(run)})
