"""Template filters of the run pages."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

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
    """``3.1`` or, for a loop iteration, ``3.1 #2``."""
    if getattr(step, "iteration", -1) is not None and step.iteration >= 0:
        return f"{step.step_id} #{step.iteration + 1}"
    return step.step_id


@register.simple_tag
def trend_cells(cells) -> str:
    """The day cells of one trends row (``page_trends``' ``cells``): class by pass rate, a title
    ``01 Dec: 3/4 passed``, the percentage as text. Built here rather than in a template loop:
    a 50-scenario, 30-day table is 1,500 cells and the template engine took most of the page's
    time on them."""
    return mark_safe(
        "".join(
            format_html(
                '<td class="cell {}" title="{}: {}/{} passed">{}</td>',
                rate_class(c["rate"]),
                c["day"].strftime("%d %b"),
                c["passed"],
                c["total"],
                round(c["passed"] / c["total"] * 100) if c["total"] else "",
            )
            for c in cells
        )
    )
