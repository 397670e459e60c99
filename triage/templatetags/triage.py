"""``{% run_triage run user %}``: the triage card of a run's report (notes, carried-over bug
references, the form)."""

from django import template

from atp_site.permissions import has_role
from triage import selectors
from triage.models import LABELS

register = template.Library()


@register.inclusion_tag("triage/_run_triage.html", takes_context=True)
def run_triage(context, run):
    user = context.get("user")
    return {
        "run": run,
        "notes": selectors.run_notes(run),
        "carried": selectors.carried_over(run),
        "failed": selectors.failed_steps(run),
        "labels": LABELS,
        "can_operate": has_role(user, "operator"),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def bug_link(ref: str) -> str:
    return ref if ref.startswith(("http://", "https://")) else ""


@register.inclusion_tag("triage/_failure_labels.html")
def failure_labels(days: int):
    """The trends page's card: the window's failed runs per scenario, split by label."""
    return selectors.failures_by_label(int(days or 30))
