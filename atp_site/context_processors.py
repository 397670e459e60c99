"""Template context every page gets."""

from __future__ import annotations

from functools import cache

from atp_core.status import vocabulary


@cache
def _words() -> dict:
    words = vocabulary()
    return {
        "RUN": words["run_state"],
        "RESULT": words["result"],
        "STEP": words["step_status"],
        "status_vocabulary": words,
    }


def status_words(request=None) -> dict:
    """The one status vocabulary (``atp_core.status``) for templates: ``{{ STEP.RUNNING }}``,
    ``{{ RESULT.PASSED }}``, ``{{ RUN.FINISHED }}``; ``status_vocabulary`` for a page's script
    (``json_script``). Fragments rendered outside a request (``runs.live_updates``) pass it
    themselves."""
    return _words()
