"""Each target's video: a WebM of its SPICE display (``atp_core.protocol.recorder``) and a
markers file (input events, step starts and ends on the video's timeline), both artifacts of
the target (no step id). Recording never fails a step: trouble is logged and the report says
why there is no video. The hypervisor display path has no update stream: no video there."""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from atp_core.errors import AtpError

if TYPE_CHECKING:
    from .executor import Branch

log = logging.getLogger(__name__)
VIDEO_NAME = "video.webm"
MARKERS_NAME = "video-markers.json"
MAX_MARKERS = 20000


def start_recording(branch: Branch, session: Any) -> Any:
    """A started ``ScreenRecorder`` of the session's SPICE display, or a reason string."""
    from atp_core.protocol.recorder import ScreenRecorder

    spice = getattr(session, "spice", None)
    if spice is None:
        return "no video: the hypervisor display path has no display update stream"
    folder = branch.run.artifact_dir / _safe(branch.target.name)
    try:
        return ScreenRecorder(spice, folder / VIDEO_NAME).start()
    except (AtpError, OSError) as exc:
        branch.emit("step_log", None, level="warning", message=f"no video: {exc}")
        return f"no video: {exc}"


def finish_recording(branch: Branch, recorder: Any) -> None:
    """Stop the recorder, write the markers, hand both files on as the target's artifacts."""
    if isinstance(recorder, str):
        branch.report.video = {"error": recorder}
        return
    try:
        info = recorder.stop()
    except Exception as exc:  # a video problem never fails the run
        log.exception("video of %s could not be finished", branch.target.name)
        branch.report.video = {"error": f"no video: {type(exc).__name__}: {exc}"}
        return
    markers = recorder.input_markers()
    for step in branch.report.steps:
        if step.started_at is None:
            continue
        start = round(max(0.0, step.started_at - recorder.started_wall), 3)
        label = f"{step.id} {step.name}"
        if step.iteration is not None:
            label += f" [{step.iteration}]"
        markers.append({"t": start, "kind": "step_start", "step": step.id, "label": label})
        markers.append(
            {
                "t": round(start + step.duration, 3),
                "kind": "step_end",
                "step": step.id,
                "iteration": step.iteration,
                "status": str(step.status),
                "label": label,
            }
        )
    markers.sort(key=lambda m: m["t"])
    info["markers"] = len(markers)
    branch.report.video = {k: v for k, v in info.items() if k != "path"}
    doc = {"video": VIDEO_NAME, **branch.report.video, "markers": markers[:MAX_MARKERS]}
    path = recorder.path.with_name(MARKERS_NAME)
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    if info["bytes"]:
        branch.emit(
            "artifact", None, name=VIDEO_NAME, path=str(recorder.path.resolve()),
            kind="file", mime="video/webm",
        )  # fmt: skip
    branch.emit(
        "artifact", None, name=MARKERS_NAME, path=str(path.resolve()),
        kind="file", mime="application/json",
    )  # fmt: skip
    if info["error"]:
        branch.emit("step_log", None, level="warning", message=info["error"])


def _safe(text: str) -> str:  # the executor's artifact folder name of a target
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"
