"""Scenario library, editor, revisions, run form and reference images (server-rendered pages).

Thin: reads through selectors, writes through services; the editor's background calls
(validate, save) answer JSON.
"""

from __future__ import annotations

import base64
import json

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from atp_core.errors import InvalidInput
from atp_site.permissions import has_role, role_required
from atp_site.tags import normalise_tags
from atp_site.uploads import read_upload
from hosts.models import VirtualMachine
from runs.services import (
    clean_retries,
    launch_run,
    parse_pause_on,
    parse_targets,
    parse_variables,
)

from . import engine, name_check, selectors, services
from .filters import ReferenceFilter, ScenarioFilter
from .models import ReferenceImage, Scenario, ScenarioRevision

NEW_SCENARIO_TEMPLATE = """\
version: 1
name: {name}
description: ""
tags: []
steps:
  - type: send_text
    text: "hello\\n"
"""


def _wants_json(request) -> bool:
    return request.headers.get("x-requested-with") == "fetch" or "json" in request.headers.get(
        "accept", ""
    )


def _editor_context(request) -> dict:
    completion = engine.completion_model()
    return {"completion": completion, "can_edit": has_role(request.user, "operator")}


@require_GET
def scenario_list(request):
    # A bad filter value is named above the list and left out; the good ones still apply.
    found = ScenarioFilter(request.GET, queryset=selectors.scenarios())
    errors = [f"{problem} (this filter is not applied)" for problem in found.problems()]
    chosen = found.form.cleaned_data
    return render(
        request,
        "scenarios/scenario_list.html",
        {
            "scenarios": found.qs,
            "show_archived": bool(chosen.get("archived")),
            "archived_count": Scenario.objects.filter(archived=True).count(),
            "tags": selectors.all_tags(),
            "query": request.GET.get("q", "").strip(),
            "chosen_tags": chosen.get("tag") or [],
            "filter_errors": errors,
            "can_edit": has_role(request.user, "operator"),
        },
        status=400 if errors else 200,
    )


@role_required("operator")
def scenario_new(request):
    if request.method == "POST":
        content = request.POST.get("content", "")
        try:
            scenario = services.create_scenario(
                content,
                request.user,
                name=request.POST.get("name") or None,
                message=request.POST.get("message", ""),
            )
        except services.ScenarioInvalid as exc:
            if _wants_json(request):
                return JsonResponse({"ok": False, "issues": exc.issues}, status=400)
            messages.error(request, str(exc))
        except InvalidInput as exc:
            if _wants_json(request):
                return JsonResponse({"ok": False, "error": str(exc), "issues": []}, status=400)
            messages.error(request, str(exc))
        else:
            url = reverse("scenarios:detail", args=[scenario.name])
            if _wants_json(request):
                return JsonResponse({"ok": True, "url": url, "revision": 1})
            return redirect(url)
    name = request.GET.get("name", "new-scenario")
    return render(
        request,
        "scenarios/editor.html",
        {
            **_editor_context(request),
            "scenario": None,
            "content": request.POST.get("content") or NEW_SCENARIO_TEMPLATE.format(name=name),
            "save_url": reverse("scenarios:new"),
        },
    )


@require_POST
@role_required("operator")
def scenario_import(request):
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "choose a YAML or JSON file to import")
        return redirect("scenarios:list")
    try:
        result = services.import_file(
            read_upload(upload, f"scenario file {upload.name}"), upload.name, request.user
        )
    except services.ScenarioInvalid as exc:
        messages.error(request, f"{upload.name}: {exc}")
        return redirect("scenarios:list")
    except InvalidInput as exc:
        messages.error(request, str(exc))
        return redirect("scenarios:list")
    if result.created:
        messages.info(request, f"Imported {upload.name} as {result.scenario.name}")
    elif result.revision_created:
        messages.info(request, f"Imported {upload.name} as a new revision of {result.scenario}")
    else:
        messages.info(request, f"{upload.name} is identical to {result.scenario.name}'s revision")
    return redirect("scenarios:detail", result.scenario.name)


@require_POST
@role_required("viewer")
def validate(request):
    """Validate editor text (read-only: every role may call it, a user without one may not;
    the text is loaded in a child process under a CPU budget, see engine.validate)."""
    content = request.POST.get("content")
    if content is None:
        try:
            content = json.loads(request.body or b"{}").get("content", "")
        except (ValueError, AttributeError):
            return JsonResponse({"ok": False, "issues": [], "error": "send content"}, status=400)
    if len(content.encode()) > services.MAX_SCENARIO_BYTES:
        return JsonResponse({"ok": False, "issues": [], "error": "scenario too large"}, status=400)
    result = engine.validate(content)
    # names the installation does not know: warnings only, they never block a save
    warnings = name_check.unknown_name_warnings(content) if result.ok else []
    return JsonResponse({"ok": result.ok, "issues": result.issues, "warnings": warnings})


@require_GET
def schema(request):
    return JsonResponse(engine.json_schema())


def _scenario(name: str) -> Scenario:
    return get_object_or_404(Scenario.objects.select_related("current_revision"), name=name)


def _revision(scenario: Scenario, number) -> ScenarioRevision | None:
    """``selectors.get_revision`` with an unknown number a 404 (a malformed one raises
    InvalidInput for the view to answer)."""
    try:
        return selectors.get_revision(scenario, number)
    except selectors.RevisionNotFound as exc:
        raise Http404(str(exc)) from None


@require_GET
def scenario_detail(request, name: str):
    scenario = _scenario(name)
    revision = scenario.current_revision
    # VMs that are gone (no longer on their host or platform) are not offered as targets
    vms = (
        VirtualMachine.objects.select_related("host")
        .exclude(state="gone")
        .order_by("host__name", "name")
    )
    return render(
        request,
        "scenarios/editor.html",
        {
            **_editor_context(request),
            "scenario": scenario,
            "revision": revision,
            "content": revision.content if revision else "",
            "revisions": selectors.revisions_of(scenario)[:50],
            "save_url": reverse("scenarios:save", args=[scenario.name]),
            "vms": vms,
            "vm_tags": sorted(
                {t for tags in vms.values_list("tags", flat=True) for t in normalise_tags(tags)}
            ),
            **_vdi_choice(revision),
        },
    )


def _vdi_choice(revision) -> dict:
    """For the Run form: the VDI endpoints, the one the scenario would use, whether it needs a
    VM at all (a scenario of VDI steps only does not), the builds runs were launched with."""
    from hosts.models import VdiEndpoint

    if revision is None:
        return {}
    from runs.selectors import recent_builds
    from runs.services import choose_vdi_endpoint, needs_vm

    try:
        default = choose_vdi_endpoint(revision)
    except InvalidInput as exc:
        default, problem = "", str(exc)
    else:
        problem = ""
    return {
        "vdi_endpoints": list(VdiEndpoint.objects.order_by("name").values_list("name", flat=True)),
        "recent_builds": recent_builds(),
        "vdi_default": default,
        "vdi_problem": problem,
        "needs_vm": needs_vm(revision),
    }


@require_POST
@role_required("operator")
def scenario_save(request, name: str):
    scenario = _scenario(name)
    try:
        saved = services.save_revision(
            scenario,
            request.POST.get("content", ""),
            request.user,
            message=request.POST.get("message", ""),
        )
    except services.ScenarioInvalid as exc:
        if _wants_json(request):
            return JsonResponse({"ok": False, "issues": exc.issues}, status=400)
        messages.error(request, str(exc))
        return redirect("scenarios:detail", name)
    except InvalidInput as exc:
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": str(exc), "issues": []}, status=400)
        messages.error(request, str(exc))
        return redirect("scenarios:detail", name)
    payload = {
        "ok": True,
        "created": saved.created,
        "revision": saved.revision.number,
        "url": reverse("scenarios:detail", args=[name]),
    }
    if _wants_json(request):
        return JsonResponse(payload)
    messages.info(request, f"Saved revision {saved.revision.number}")
    return redirect("scenarios:detail", name)


@require_GET
def revision_detail(request, name: str, number: int):
    scenario = _scenario(name)
    revision = _revision(scenario, number)
    return render(
        request,
        "scenarios/revision.html",
        {
            "scenario": scenario,
            "revision": revision,
            "diff_lines": revision.diff.splitlines(),
            "revisions": selectors.revisions_of(scenario)[:50],
        },
    )


@require_GET
def scenario_export(request, name: str):
    scenario = _scenario(name)
    try:
        revision = _revision(scenario, request.GET.get("revision"))
        if revision is None:
            raise Http404("no revision")
        fmt = request.GET.get("format", revision.format)
        text, content_type = services.export_text(revision, fmt)
    except InvalidInput as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    ext = "json" if fmt == "json" else "yaml"
    response["Content-Disposition"] = (
        f'attachment; filename="{scenario.name}-r{revision.number}.{ext}"'
    )
    return response


@require_POST
@role_required("operator")
def scenario_run(request, name: str):
    scenario = _scenario(name)
    try:
        revision = _revision(scenario, request.POST.get("revision"))
        if revision is None:
            raise InvalidInput("save the scenario before running it")
        targets = parse_targets(request.POST.getlist("vm"), request.POST.get("tags", ""))
        variables = parse_variables(request.POST.get("variables", ""))
        endpoint = request.POST.get("vdi_endpoint", "").strip()
        run = launch_run(
            revision,
            targets,
            variables,
            request.user,
            vdi_endpoint=endpoint or None,
            pause_on=parse_pause_on(
                request.POST.get("pause_on", ""), request.POST.get("pause_on_step", "")
            )
            or None,
            retries=clean_retries(request.POST.get("retries", "")),
            build=request.POST.get("build", "") or None,
        )
    except InvalidInput as exc:
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": str(exc)}, status=400)
        messages.error(request, f"Not launched: {exc}")
        return redirect("scenarios:detail", name)
    url = run.get_absolute_url()
    if _wants_json(request):
        return JsonResponse({"ok": True, "run": run.pk, "url": url})
    return redirect(url)


@require_POST
@role_required("operator")
def scenario_archive(request, name: str):
    scenario = _scenario(name)
    scenario.archived = not scenario.archived
    scenario.save(update_fields=["archived", "updated"])
    if scenario.archived:
        messages.info(request, f"{name} archived: it is listed under Show archived")
        return redirect("scenarios:list")
    messages.info(request, f"{name} restored")
    return redirect("scenarios:detail", name)


# --- reference images -------------------------------------------------------------------------


@require_GET
def reference_list(request):
    found = ReferenceFilter(request.GET, queryset=selectors.references())
    errors = [f"{problem} (this filter is not applied)" for problem in found.problems()]
    return render(
        request,
        "scenarios/reference_list.html",
        {
            "references": found.qs,
            "query": request.GET.get("q", "").strip(),
            "chosen_tags": found.form.cleaned_data.get("tag") or [],
            "filter_errors": errors,
            "can_edit": has_role(request.user, "operator"),
        },
        status=400 if errors else 200,
    )


@require_GET
def reference_detail(request, name: str):
    ref = get_object_or_404(ReferenceImage, name=name)
    return render(
        request,
        "scenarios/reference_editor.html",
        {
            "reference": ref,
            "candidates": ref.candidates.all(),
            "image_url": reverse("scenarios:reference_image", args=[ref.name]),
            "areas_json": ref.areas,
            "can_edit": has_role(request.user, "operator"),
            **_score_context(),
        },
    )


@require_GET
def reference_image(request, name: str):
    ref = get_object_or_404(ReferenceImage, name=name)
    if not ref.image:
        raise Http404("no image")
    return FileResponse(ref.image.open("rb"), content_type="image/png")


@require_GET
def reference_candidate_image(request, name: str, label: str):
    ref = get_object_or_404(ReferenceImage, name=name)
    candidate = get_object_or_404(ref.candidates, label=label)
    if not candidate.image:
        raise Http404("no image")
    return FileResponse(candidate.image.open("rb"), content_type="image/png")


@require_POST
@role_required("operator")
def reference_candidate_add(request, name: str):
    """Upload another image the reference accepts (its areas apply to it)."""
    ref = get_object_or_404(ReferenceImage, name=name)
    upload = request.FILES.get("image")
    try:
        if upload is None:
            raise InvalidInput("choose a PNG screenshot for the candidate")
        candidate = services.add_reference_candidate(
            ref,
            label=request.POST.get("label", ""),
            png=read_upload(upload, f"screenshot {upload.name}"),
            user=request.user,
            source=f"upload {upload.name}",
        )
    except InvalidInput as exc:
        messages.error(request, f"Candidate not added: {exc}")
    else:
        messages.info(request, f"Added candidate {candidate.label} to {ref.name}")
    return redirect("scenarios:reference", name=ref.name)


@require_POST
@role_required("operator")
def reference_candidate_remove(request, name: str, label: str):
    ref = get_object_or_404(ReferenceImage, name=name)
    try:
        services.remove_reference_candidate(ref, label)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"Removed candidate {label} from {ref.name}")
    return redirect("scenarios:reference", name=ref.name)


def _screenshot_source(request) -> tuple[bytes | None, str]:
    """The screenshot to crop from: an upload, a VM's thumbnail, or a posted data URL."""
    upload = request.FILES.get("screenshot")
    if upload is not None:
        return read_upload(upload, f"screenshot {upload.name}"), f"upload {upload.name}"
    vm_id = request.GET.get("vm") or request.POST.get("vm")
    if vm_id:
        from atp_core.errors import AtpError
        from hosts.services import take_screenshot

        vm = get_object_or_404(VirtualMachine.objects.select_related("host"), pk=vm_id)
        if vm.host is None:
            raise InvalidInput(f"{vm.name} is known only from a VDI platform: sync its host first")
        try:
            png = take_screenshot(vm.host, vm.name)
        except (AtpError, OSError) as exc:
            raise InvalidInput(f"no screenshot of {vm}: {exc}") from None
        return png, f"screenshot of {vm} at {timezone.now():%Y-%m-%d %H:%M:%S}"
    data_url = request.POST.get("image_data", "")
    if data_url.startswith("data:image/png;base64,"):
        try:
            return base64.b64decode(data_url.split(",", 1)[1], validate=True), request.POST.get(
                "source", "editor"
            )
        except ValueError:
            raise InvalidInput("image_data: not base64") from None
    return None, ""


@role_required("operator")
def reference_new(request):
    """Pick an area on a screenshot and save it as a reference (GET shows, POST saves)."""
    if request.method == "POST" and "areas" in request.POST:  # the save form, not an upload
        png = None
        try:
            png, source = _screenshot_source(request)
            if png is None:
                raise InvalidInput("no screenshot: upload one or pick a VM")
            try:
                areas = json.loads(request.POST["areas"])
            except ValueError:
                raise InvalidInput("areas: not JSON") from None
            ref = services.save_reference_image(
                name=request.POST.get("name", ""),
                png=png,
                areas=areas,
                user=request.user,
                threshold=float(request.POST.get("threshold") or 0.96),
                tags=[t.strip() for t in request.POST.get("tags", "").split(",") if t.strip()],
                source=request.POST.get("source") or source,
            )
        except (InvalidInput, ValueError) as exc:
            if _wants_json(request):
                return JsonResponse({"ok": False, "error": str(exc)}, status=400)
            if png is None:
                messages.error(request, str(exc))
                return redirect("scenarios:references")
            return _reference_form_again(request, png, str(exc))
        url = reverse("scenarios:reference", args=[ref.name])
        if _wants_json(request):
            return JsonResponse({"ok": True, "url": url, "name": ref.name})
        messages.info(request, f"Saved reference {ref.name}")
        back = request.POST.get("next", "")
        if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            return redirect(back)  # e.g. the paused run's live view, to retry against it
        return redirect(url)
    # GET, or a POST that only uploads the screenshot to work on
    try:
        png, source = _screenshot_source(request)
    except InvalidInput as exc:
        messages.error(request, str(exc))
        return redirect("scenarios:references")
    image_data = "data:image/png;base64," + base64.b64encode(png).decode() if png else ""
    vms = VirtualMachine.objects.select_related("host").filter(host__isnull=False, state="running")
    # ``from=<name>``: update that reference from this screenshot, its areas already drawn
    # (developer mode: fix the failed reference from a paused target's current screen)
    base = ReferenceImage.objects.filter(name=request.GET.get("from", "")).first()
    form = None
    if base is not None:
        form = {"name": base.name, "tags": ", ".join(base.tags or []), "threshold": base.threshold}
    return render(
        request,
        "scenarios/reference_editor.html",
        {
            "reference": None,
            "image_data": image_data,
            "source": source,
            "vms": vms,
            "areas_json": list(base.areas or []) if base is not None else [],
            "form": form,
            "next": request.GET.get("next", ""),
            "can_edit": True,
            **_score_context(request.GET.get("vm") if png else None),
        },
    )


def _reference_form_again(request, png: bytes, error: str):
    """The editor once more with the same screenshot, what was typed and the error (400):
    a refused save must not throw the screenshot away."""
    try:
        areas = json.loads(request.POST.get("areas") or "[]")
    except ValueError:
        areas = []
    return render(
        request,
        "scenarios/reference_editor.html",
        {
            "reference": None,
            "image_data": "data:image/png;base64," + base64.b64encode(png).decode(),
            "source": request.POST.get("source", ""),
            "areas_json": areas if isinstance(areas, list) else [],
            **_score_context(),
            "form_error": f"Not saved: {error}",
            "form": {
                "name": request.POST.get("name", ""),
                "tags": request.POST.get("tags", ""),
                "threshold": request.POST.get("threshold", ""),
            },
            "can_edit": True,
        },
        status=400,
    )


def _score_context(vm_id: str | None = None) -> dict:
    """The live score's sources; ``vm_id``: the VM the screenshot came from, chosen first
    (developer mode: does the paused screen still match while the areas are fixed?)."""
    from . import scoring

    try:
        default = int(vm_id) if vm_id else None
    except ValueError:
        default = None
    return {"score_sources": scoring.source_choices(), "score_default": default}


@require_POST
@role_required("viewer")
def reference_score(request):
    """The live score of the areas being edited (JSON in and out, scenarios/scoring.py).

    A viewer may ask too: it writes nothing and reads only screens a viewer may already watch
    (a VM's screen, a run's screenshots), so the read-only reference page scores as well."""
    from . import scoring

    try:
        data = json.loads(request.body or b"null")
    except ValueError as exc:
        return JsonResponse({"ok": False, "error": f"the body is not JSON: {exc}"}, status=400)
    try:
        return JsonResponse(scoring.score(data))
    except InvalidInput as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=400)
    except scoring.ScoreRefused as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=exc.status)


@role_required("admin")
def secret_list(request):
    """Scenario secrets: names only; a value is typed once and never shown again."""
    from . import secrets as secret_service
    from .models import ScenarioSecret

    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        try:
            secret_service.set_secret(
                name,
                request.POST.get("value", ""),
                request.user,
                request.POST.get("description", ""),
            )
        except InvalidInput as exc:
            messages.error(request, str(exc))
        else:
            messages.info(request, f"Saved the secret {name}")
            return redirect("scenarios:secrets")
    secrets = ScenarioSecret.objects.select_related("updated_by").order_by("name")
    status = 400 if request.method == "POST" else 200
    return render(request, "scenarios/secret_list.html", {"secrets": secrets}, status=status)


@require_POST
@role_required("admin")
def secret_delete(request, name: str):
    from . import secrets as secret_service

    if secret_service.delete_secret(name):
        messages.info(request, f"Deleted the secret {name}")
    else:
        messages.error(request, f"no secret named {name!r}")
    return redirect("scenarios:secrets")
