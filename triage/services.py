"""Writes of triage: a note (comment, bug reference, label) on a run or on a failed step."""

from __future__ import annotations

import re

from atp_core.errors import InvalidInput
from atp_core.status import BAD_STATUSES
from runs.models import Run, StepResult

from .models import LABELS, Note

BUG_REF = re.compile(r"^(https?://\S+|[A-Z][A-Z0-9_]*-\d+)$")
COMMENT_MAX = 4000


def add_note(
    run: Run,
    user,
    *,
    comment: str = "",
    bug_ref: str = "",
    label: str = "",
    step: str = "",
) -> Note:
    """``step`` is ``"<target>|<step id>"`` of a failed step, or empty for the run."""
    comment, bug_ref, label = (comment or "").strip(), (bug_ref or "").strip(), label or ""
    if not (comment or bug_ref or label):
        raise InvalidInput("give a comment, a bug reference or a label")
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(f"comment: {len(comment)} characters; at most {COMMENT_MAX}")
    if bug_ref and not BUG_REF.match(bug_ref):
        raise InvalidInput(
            f"bug reference {bug_ref!r}: give a URL (https://…) or an issue key like PROJ-123"
        )
    if label and label not in dict(LABELS):
        raise InvalidInput(f"label {label!r}; allowed: {', '.join(k for k, _ in LABELS)}")
    target = step_id = ""
    if step:
        target, _, step_id = step.rpartition("|")
        failed = StepResult.objects.filter(
            run=run, target__name=target, step_id=step_id, status__in=list(BAD_STATUSES)
        ).exists()
        if not failed:
            raise InvalidInput(f"step {step_id} of {target} did not fail in run {run.pk}")
    return Note.objects.create(
        run=run,
        target=target,
        step_id=step_id,
        comment=comment,
        bug_ref=bug_ref,
        label=label,
        author=user if getattr(user, "is_authenticated", False) else None,
    )
