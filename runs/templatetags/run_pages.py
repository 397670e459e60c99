"""Template filters of the run pages."""

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from runs import charts

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """``12.3`` → ``12.3 s``; ``0.25`` → ``250 ms``; ``125`` → ``2 min 5 s``; None → ``""``."""
    if seconds is None or seconds == "":
        return ""
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return ""
    if s < 1:
        return f"{round(s * 1000)} ms"
    if s < 60:
        return f"{s:.1f} s"
    minutes = int(s // 60)
    return f"{minutes} min {round(s - minutes * 60)} s"


@register.filter
def ms(seconds) -> str:
    """Seconds as whole milliseconds: 0.0834 -> "83 ms"."""
    try:
        return f"{float(seconds) * 1000:.0f} ms"
    except (TypeError, ValueError):
        return ""


@register.simple_tag
def logon_bar(metrics, scale) -> str:
    """A stacked bar of a logon step's phases (``runs.charts.logon_bar_svg``)."""
    return charts.logon_bar_svg(metrics, scale)


@register.simple_tag
def latency_steps_chart(rows) -> str:
    """The latency distribution per input step (``runs.charts.latency_steps_svg``)."""
    return charts.latency_steps_svg(rows)


@register.simple_tag
def latency_kinds_chart(rows) -> str:
    """p50/p95/max latency per action kind (``runs.charts.latency_kinds_svg``)."""
    return charts.latency_kinds_svg(rows)


@register.simple_tag
def latency_trend_chart(runs, kinds) -> str:
    """Latency p50/p95 per kind across runs (``runs.charts.latency_trend_svg``)."""
    return charts.latency_trend_svg(runs, kinds)


@register.simple_tag
def logon_trend_chart(runs) -> str:
    """Logon phase medians across runs (``runs.charts.logon_trend_svg``)."""
    return charts.logon_trend_svg(runs)


@register.filter
def percent(rate) -> str:
    """``0.857`` → ``86%``; None → ``—``."""
    if rate is None:
        return "—"
    return f"{round(float(rate) * 100)}%"


@register.filter
def rate_class(rate) -> str:
    """A CSS class for a pass rate: ``rate-good`` (100%), ``rate-mid`` (≥ 70%), ``rate-bad``."""
    if rate is None:
        return "rate-none"
    if rate >= 0.999:
        return "rate-good"
    return "rate-mid" if rate >= 0.7 else "rate-bad"


@register.simple_tag
def artifact_url(run_id, item) -> str:
    """Where the browser fetches an artifact of a step (``item`` from ``page_run``)."""
    if item.get("artifact") is not None:
        return reverse("runs:artifact", args=[run_id, item["artifact"].pk])
    if item.get("url"):
        return item["url"]
    from urllib.parse import urlencode

    query = urlencode(
        {"target": item.get("target", ""), "step": item.get("step_id", ""), "name": item["name"]}
    )
    return f"{reverse('runs:artifact_find', args=[run_id])}?{query}"


@register.filter
def step_label(step) -> str:
    """``3.1`` or, for a loop iteration, ``3.1 [2]``: the number is ``${loop.index}``
    (0-based), the same in the live view (the same ``runs/_step.html``) and JUnit. Takes a
    StepResult or a mapping with ``step_id`` and ``iteration``."""
    if isinstance(step, dict):
        step_id, iteration = step.get("step_id", ""), step.get("iteration")
    else:
        step_id, iteration = step.step_id, getattr(step, "iteration", None)
    if iteration is not None and iteration >= 0:
        return f"{step_id} [{iteration}]"
    return step_id


@register.simple_tag
def trend_cells(cells) -> str:
    """The day cells of one trends row (``page_trends``' ``cells``): class by pass rate, a title
    ``01 Dec: 3/4 passed``, the percentage as text. Built here rather than in a template loop:
    a 50-scenario, 30-day table is 1,500 cells and the template engine took most of the page's
    time on them. Nothing to escape: counts (forced to int), a date, our own class names."""
    out = []
    for c in cells:
        passed, total = int(c["passed"]), int(c["total"])
        text = round(passed / total * 100) if total else ""
        out.append(
            f'<td class="cell {rate_class(c["rate"])}" title="{c["day"]:%d %b}: {passed}/{total}'
            f' passed">{text}</td>'
        )
    return mark_safe("".join(out))  # noqa: S308 - only ints, a date and fixed class names


@register.simple_tag
def trend_day_headers(days) -> str:
    """The day columns' header cells of a trends table: ``<th title="Mon 01 Dec 2025">01</th>``."""
    return mark_safe(  # noqa: S308 - dates only
        "".join(f'<th class="day" title="{d:%a %d %b %Y}">{d:%d}</th>' for d in days)
    )


def _event_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@register.filter
def run_event_text(event) -> str:
    """A run-level event as one line of "Run events", on the page and in the live view's
    lines (``runs.live_updates``), so a reload reads the same."""
    data = event.payload or {}
    if event.type == "queued":
        return "queued"
    if event.type == "cancel_requested":
        who = data.get("by") or data.get("user")
        return f"cancel requested by {who}" if who else "cancel requested"
    bits = [
        f"{k}={_event_value(v)}"
        for k, v in sorted(data.items())
        if v is not None and not isinstance(v, dict | list)
    ]
    text = event.type.replace("_", " ")
    return f"{text}: {', '.join(bits)}" if bits else text


@register.simple_tag
def matrix_cell(row: dict, column: str):
    """The matrix cell of ``row`` in ``column`` (None: no run there)."""
    return (row.get("cells") or {}).get(column)
