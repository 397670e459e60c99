"""Triage pages: add a note to a run (operators), search runs, step errors and notes (everyone)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from atp_core.errors import InvalidInput
from atp_site.permissions import role_required
from runs.models import Run

from . import selectors, services


@require_POST
@role_required("operator")
def note_add(request, run_id: int):
    run = get_object_or_404(Run, pk=run_id)
    try:
        services.add_note(
            run,
            request.user,
            comment=request.POST.get("comment", ""),
            bug_ref=request.POST.get("bug_ref", ""),
            label=request.POST.get("label", ""),
            step=request.POST.get("step", ""),
        )
    except InvalidInput as exc:
        messages.error(request, f"Not saved: {exc}")
    else:
        messages.info(request, "Note saved")
    return redirect(f"{run.get_absolute_url()}#triage")


@require_GET
def search(request):
    # ``find`` is the navigation's field (pages keep ``q`` for their own filters)
    query = request.GET.get("q") or request.GET.get("find", "")
    return render(request, "triage/search.html", selectors.search(query))
