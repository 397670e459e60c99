"""Run pages: dashboard, runs list, live view / report, compare, trends, screens, downloads.

Thin: reads through ``runs.selectors`` (queries) and ``runs.presenters`` (the ``page_*``
functions, each a fixed number of queries), writes through ``runs.services``. Everyone with a
role reads; operators cancel and re-run.
"""

from __future__ import annotations

import io
import json
import threading
import time
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from atp_core.errors import AtpError, InvalidInput
from atp_site.permissions import has_role, role_required

from . import live_updates, part_status, presenters, reports, selectors
from .filters import RunFilter
from .models import Artifact, ResultChoices, Run, RunStateChoices, RunTarget

PAGE_SIZE = 50
SCREEN_MIN_INTERVAL = 0.4  # seconds between two captures of one VM's screen, whoever asks
SCREEN_MAX_WIDTH = 1024


def _fetch(request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


# --- dashboard and list ------------------------------------------------------------------------


@require_GET
def dashboard(request):
    data = presenters.page_dashboard()
    data["trend_svg"] = _trend_svg(data["trend"])
    data["can_operate"] = has_role(request.user, "operator")
    return render(request, "dashboard.html", data)


def _trend_svg(trend: list[dict], width: int = 560, height: int = 120, pad: int = 18) -> dict:
    """Coordinates of the pass-rate line and per-day bars (run counts) for an inline SVG."""
    n = max(len(trend), 1)
    step = (width - 2 * pad) / max(n - 1, 1)
    most = max((d["total"] for d in trend), default=0) or 1
    points, bars, dots = [], [], []
    bar_w = max(step * 0.6, 4)
    for i, d in enumerate(trend):
        x = pad + i * step
        h = (height - 2 * pad) * d["total"] / most
        bars.append(
            {
                "x": round(x - bar_w / 2, 1),
                "y": round(height - pad - h, 1),
                "w": round(bar_w, 1),
                "h": round(h, 1),
                "day": d["day"],
                "total": d["total"],
                "passed": d["passed"],
            }
        )
        if d["rate"] is not None:
            y = pad + (height - 2 * pad) * (1 - d["rate"])
            points.append(f"{x:.1f},{y:.1f}")
            dots.append(
                {
                    "x": round(x, 1),
                    "y": round(y, 1),
                    "day": d["day"],
                    "rate": round(d["rate"] * 100),
                    "total": d["total"],
                }
            )
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "points": " ".join(points),
        "bars": bars,
        "dots": dots,
        "first": trend[0]["day"] if trend else None,
        "last": trend[-1]["day"] if trend else None,
        "bottom": height - pad,
    }


@require_GET
def run_list(request):
    # Each bad value is named and left out; the good filters still apply (never silently all).
    found = RunFilter(request.GET, queryset=selectors.runs())
    errors = [f"{problem} (this filter is not applied)" for problem in found.problems()]
    bad = found.bad_values()
    filters = {k: request.GET.get(k, "").strip() for k in RunFilter.base_filters}
    qs = found.qs
    qs = qs.defer("source", "variables", "reason")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "runs/run_list.html",
        {
            "page": page,
            "filters": filters,
            "filter_errors": errors,
            "bad_filters": bad,
            "query": query,
            "choices": presenters.page_filter_choices(),
            "states": [c[0] for c in RunStateChoices.choices],
            "results": [c[0] for c in ResultChoices.choices],
        },
        status=400 if bad else 200,
    )


# --- one run -----------------------------------------------------------------------------------


def _run_context(request, run_id: int) -> dict:
    data = presenters.page_run(run_id)
    data["parts"] = part_status.describe(data["run"])  # a run on several hosts: one per host
    data["can_operate"] = has_role(request.user, "operator")
    return data


@require_GET
def run_detail(request, run_id: int):
    """The live view while the run is queued or running; the report once it has finished."""
    data = _run_context(request, run_id)
    if data["run"].is_active or request.GET.get("live"):
        return render(request, "runs/live.html", data)
    return _render_report(request, data)


@require_GET
def run_report(request, run_id: int):
    return _render_report(request, _run_context(request, run_id))


def _render_report(request, data: dict):
    data["previous"], data["next"] = selectors.previous_next(data["run"])
    step_shots = {
        (a.target_id, a.step_id, a.name)
        for t in data["targets"]
        for s in t.step_rows
        for a in [x["artifact"] for x in s.shots + s.files]
        + [v[side]["artifact"] for v in s.sliders for side in ("reference", "actual")]
        if a
    }
    data["other_artifacts"] = [
        a for a in data["artifacts"] if (a.target_id, a.step_id, a.name) not in step_shots
    ]
    return render(request, "runs/report.html", data)


@require_GET
def run_events(request, run_id: int):
    """Polling fallback of the websocket: ``{"events", "state", "result", "last_seq"}``;
    ``?view=1`` adds each event's page fragments, as the websocket sends them."""
    run = get_object_or_404(Run.objects.only("id", "state", "result", "last_seq"), pk=run_id)
    try:
        page = selectors.events_page(run, request.GET.get("after", "0"))
    except InvalidInput as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    if request.GET.get("view"):  # the live page's: each event with what it changed
        page["events"] = live_updates.with_views(run.pk, page["events"])
    return JsonResponse(page)


@require_POST
@role_required("operator")
def run_cancel(request, run_id: int):
    from . import services

    run = get_object_or_404(Run, pk=run_id)
    if not run.is_active:
        msg = f"run {run.pk} has already finished"
        if _fetch(request):
            return JsonResponse({"ok": False, "error": msg}, status=409)
        messages.info(request, msg)
        return redirect(run.get_absolute_url())
    try:
        services.request_cancel(run, request.user)
    except InvalidInput as exc:
        if _fetch(request):
            return JsonResponse({"ok": False, "error": str(exc)}, status=409)
        messages.info(request, str(exc))
        return redirect(run.get_absolute_url())
    if _fetch(request):
        return JsonResponse({"ok": True})
    messages.info(request, f"Cancel of run {run.pk} requested")
    return redirect(run.get_absolute_url())


@require_POST
@role_required("operator")
def run_rerun(request, run_id: int):
    from . import services

    run = get_object_or_404(Run, pk=run_id)
    try:
        new = services.rerun(run, request.user)
    except InvalidInput as exc:
        messages.error(request, f"Not re-run: {exc}")
        return redirect(run.get_absolute_url())
    messages.info(request, f"Re-run of run {run.pk} launched as run {new.pk}")
    return redirect(new.get_absolute_url())


# --- the VM's screen, throttled: one capture per VM per SCREEN_MIN_INTERVAL ----------------------

_screens: dict[tuple, tuple[float, bytes]] = {}
_screen_locks: dict[tuple, threading.Lock] = {}
_screens_guard = threading.Lock()


def _current_screen(host, vm_name: str, full: bool = False) -> bytes:
    """The VM's screen (shrunk to SCREEN_MAX_WIDTH unless ``full``), captured at most once per
    SCREEN_MIN_INTERVAL whatever the number of viewers."""
    from hosts.services import take_screenshot

    key = (host.pk, vm_name)
    with _screens_guard:
        lock = _screen_locks.setdefault(key, threading.Lock())
    with lock:  # concurrent viewers wait for the one capture being taken
        cached = _screens.get(key)
        if not cached or time.monotonic() - cached[0] >= SCREEN_MIN_INTERVAL:
            cached = (time.monotonic(), take_screenshot(host, vm_name), None)
        if full:
            _screens[key] = cached
            return cached[1]
        small = cached[2] or _shrink(cached[1])
        _screens[key] = (cached[0], cached[1], small)
        return small


def _shrink(png: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        if img.width <= SCREEN_MAX_WIDTH:
            return png
        ratio = SCREEN_MAX_WIDTH / img.width
        small = img.convert("RGB").resize((SCREEN_MAX_WIDTH, max(1, int(img.height * ratio))))
        buf = io.BytesIO()
        small.save(buf, "PNG")
        return buf.getvalue()


@require_GET
def target_screen(request, run_id: int, target_id: int):
    """The VM's current screen as PNG (throttled server-side); ``?full=1``: full size."""
    target = get_object_or_404(
        RunTarget.objects.select_related("host"), pk=target_id, run_id=run_id
    )
    if target.host is None:
        raise Http404(f"{target.name} has no libvirt host to take a screenshot from")
    try:
        png = _current_screen(target.host, target.vm_name, full=request.GET.get("full") == "1")
    except (AtpError, OSError) as exc:
        return HttpResponse(
            f"no screenshot of {target.name}: {exc}", status=503, content_type="text/plain"
        )
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=1"
    return response


# --- artifacts and downloads -------------------------------------------------------------------


def _serve_artifact(request, art: Artifact):
    if not art.file:
        raise Http404("artifact has no file")
    try:
        handle = art.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(f"artifact file {art.name} is missing") from None
    download = bool(request.GET.get("download"))
    ranged = _byte_range(request, art, handle)
    if ranged is not None:
        return ranged
    response = FileResponse(
        handle,
        content_type=art.mime or "application/octet-stream",
        as_attachment=download,
        filename=art.name,
    )
    response["Cache-Control"] = "private, max-age=3600"
    if (art.mime or "").startswith("video/"):
        response["Accept-Ranges"] = "bytes"
    if not download and not (art.mime or "").startswith("image/"):
        response["Content-Disposition"] = f'inline; filename="{art.name}"'
        response["X-Content-Type-Options"] = "nosniff"
        if (art.mime or "").startswith("text/html"):
            response["Content-Type"] = "text/plain; charset=utf-8"
    return response


RANGE_CHUNK_CAP = 8 * 1024 * 1024


def _byte_range(request, art: Artifact, handle):
    """A 206 answer to ``Range: bytes=a-b`` for a video (browsers seek a <video> by ranges);
    None for anything else. One range, at most 8 MiB per answer; a bad range is a 416."""
    header = request.headers.get("Range", "")
    if not (art.mime or "").startswith("video/") or not header.startswith("bytes="):
        return None
    size = art.file.size
    first, _, last = header[6:].split(",")[0].strip().partition("-")
    try:
        if first:
            start = int(first)
            end = int(last) if last else size - 1
        else:
            start, end = max(0, size - int(last)), size - 1
    except ValueError:
        start, end = -1, -1
    if not (0 <= start <= end) or start >= size:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    end = min(end, size - 1, start + RANGE_CHUNK_CAP - 1)
    handle.seek(start)
    body = handle.read(end - start + 1)
    handle.close()
    response = HttpResponse(body, status=206, content_type=art.mime)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = f'inline; filename="{art.name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def artifact_file(request, run_id: int, artifact_id: int):
    return _serve_artifact(request, get_object_or_404(Artifact, pk=artifact_id, run_id=run_id))


@require_GET
def artifact_find(request, run_id: int):
    """An artifact by target, step and name: what the live view knows from an ``artifact``
    event before it knows the artifact's id."""
    qs = Artifact.objects.filter(run_id=run_id, name=request.GET.get("name", ""))
    if request.GET.get("step"):
        qs = qs.filter(step_id=request.GET["step"])
    if request.GET.get("target"):
        qs = qs.filter(target__name=request.GET["target"])
    art = qs.order_by("-id").first()
    if art is None:
        raise Http404("no such artifact (yet)")
    return _serve_artifact(request, art)


@require_GET
def report_download(request, run_id: int, fmt: str):
    try:
        if fmt == "json":
            body = json.dumps(reports.report_json(run_id), indent=2, default=str)
        else:
            body = reports.report_junit(run_id)
    except Run.DoesNotExist:
        raise Http404(f"no run {run_id}") from None
    if fmt == "json":
        response = HttpResponse(body, content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="run-{run_id}.json"'
    else:
        response = HttpResponse(body, content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="run-{run_id}-junit.xml"'
    return response


# --- compare and trends ------------------------------------------------------------------------


@require_GET
def compare(request):
    ids = []
    for key in ("a", "b"):
        raw = request.GET.get(key, "")
        try:
            ids.append(int(raw))
        except ValueError:
            return render(
                request,
                "runs/compare.html",
                {"error": f"{key}: give a run id (?a=<id>&b=<id>), got {raw!r}"},
                status=400,
            )
    found = {
        r.pk: r for r in Run.objects.select_related("launched_by", "revision").filter(pk__in=ids)
    }
    for i in ids:
        if i not in found:
            raise Http404(f"no run {i}")
    run_a, run_b = found[ids[0]], found[ids[1]]
    rows = presenters.page_compare(run_a, run_b)
    changes = {}
    for r in rows:
        changes[r["change"]] = changes.get(r["change"], 0) + 1
    return render(
        request,
        "runs/compare.html",
        {
            "a": run_a,
            "b": run_b,
            "rows": rows,
            "changes": changes,
            "variables": presenters.variable_changes(run_a.variables or {}, run_b.variables or {}),
            "revision_diff": presenters.revision_diff(run_a, run_b),
        },
    )


def _bounded(request, key: str, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(request.GET.get(key, default)), low), high)
    except ValueError:
        return default


@require_GET
def trends(request):
    def number(key, default, low, high):
        return _bounded(request, key, default, low, high)

    data = presenters.page_trends(
        days=number("days", 30, 1, 365), last_runs=number("runs", 10, 2, 100)
    )
    return render(request, "runs/trends.html", data)


@require_GET
def matrix(request):
    """Scenarios × builds (or × hosts: ``?by=host``, for one ``build`` or the last days)."""
    by = request.GET.get("by", "build")
    build = request.GET.get("build", "").strip()
    try:
        data = presenters.page_matrix(by=by, build=build)
    except InvalidInput as exc:
        data = presenters.page_matrix(by="build")
        data["error"] = f"{exc}; showing scenarios × builds"
        return render(request, "runs/matrix.html", data, status=400)
    return render(request, "runs/matrix.html", data)


@require_GET
def metric_trends(request):
    """Latency and logon time across runs, per scenario, host and desk pool."""
    data = presenters.metric_trends(request.GET, days=_bounded(request, "days", 30, 1, 365))
    return render(request, "runs/metric_trends.html", data)


@require_GET
def investigate(request, run_id: int):
    """A failing run next to the last run of its scenario that passed: what changed."""
    return render(request, "runs/investigate.html", presenters.page_investigation(run_id))
