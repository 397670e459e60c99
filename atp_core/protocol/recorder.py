"""A video (WebM, VP9) of what the SPICE client received, with the input events as markers.

While recording, a thread looks at the client at a capped rate (``fps``, default 5) and keeps a
frame only when the display changed since the last one (a PNG in a scratch folder, with the time
of its last display update). ``stop()`` encodes them with Debian's ``ffmpeg`` (concat list with
each frame's real duration, variable frame rate, ``libvpx-vp9`` realtime): the file holds frames
only on change, at their real times, and the encoding costs nothing while the steps run. The
timeline starts at ``started`` (the client's monotonic clock), so input events
(``SpiceClient.inputs_since``) and step boundaries map onto it. Bounded: the frame-rate cap, a
size cap on the kept frames (``max_bytes``: past it no more frames are kept) and a deadline on
the encoding.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from PIL import Image

from atp_core.errors import AtpError, InfrastructureError

DEFAULT_FPS = 5
DEFAULT_MAX_BYTES = 300 * 1024 * 1024
FINISH_TIMEOUT = 300.0


def ffmpeg_path() -> str | None:
    return shutil.which("ffmpeg")


class ScreenRecorder:
    """Record ``client`` (a connected ``SpiceClient``) into ``path`` until ``stop()``."""

    def __init__(
        self,
        client: Any,
        path: str | Path,
        *,
        fps: int = DEFAULT_FPS,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.client = client
        self.path = Path(path)
        self.fps = max(1, min(30, int(fps)))
        self.max_bytes = max_bytes
        self.started = 0.0  # monotonic
        self.started_wall = 0.0
        self.checks = 0
        self.error: str | None = None
        self._frames: list[tuple[float, Path]] = []
        self._kept_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scratch: Path | None = None
        self._size: tuple[int, int] = (0, 0)
        self._ended = 0.0

    def start(self) -> ScreenRecorder:
        if ffmpeg_path() is None:
            raise InfrastructureError("video: ffmpeg is not installed (Debian package ffmpeg)")
        frame = self.client.frame()
        width, height = frame.size
        self._size = (width - width % 2, height - height % 2)  # yuv420p wants even sizes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._scratch = Path(tempfile.mkdtemp(prefix="frames-", dir=self.path.parent))
        self.started = time.monotonic()
        self.started_wall = time.time()
        self._keep(frame, self.started)
        self._thread = threading.Thread(target=self._run, name="atp-video", daemon=True)
        self._thread.start()
        return self

    def _keep(self, frame: Any, at: float) -> None:
        assert self._scratch is not None
        w, h = self._size
        image = Image.fromarray(frame.pixels, "RGB")
        if image.size != (w, h):  # the guest changed its screen size: keep the first size
            image = image.resize((w, h))
        path = self._scratch / f"f{len(self._frames):06d}.png"
        image.save(path, format="PNG", compress_level=1)
        self._kept_bytes += path.stat().st_size
        self._frames.append((max(0.0, at - self.started), path))

    def _run(self) -> None:
        last_seq = self.client.update_count
        tick = 1
        while not self._stop.is_set():
            delay = self.started + tick / self.fps - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
            tick = max(tick + 1, int((time.monotonic() - self.started) * self.fps) + 1)
            self.checks += 1
            if self.client.update_count == last_seq:
                continue
            try:
                frame = self.client.frame()
            except AtpError:
                continue  # connection lost for a moment: the last picture stays
            last_seq = frame.seq
            if self._kept_bytes > self.max_bytes:
                self.error = f"video: frames past the size cap of {self.max_bytes} bytes dropped"
                continue
            try:
                self._keep(frame, max(frame.time, self._frames[-1][0] + self.started))
            except OSError as exc:
                self.error = f"video: a frame could not be kept: {exc}"
                break
        self._ended = time.monotonic()

    def stop(self) -> dict[str, Any]:
        """Encode the kept frames; return what was recorded (seconds, frames, bytes, error)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        ended = self._ended or time.monotonic()
        seconds = max(0.0, ended - self.started)
        try:
            if self._frames:
                self._encode(seconds)
        finally:
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)
        size = self.path.stat().st_size if self.path.exists() else 0
        return {
            "path": str(self.path),
            "seconds": round(seconds, 3),
            "fps_cap": self.fps,
            "frames": len(self._frames),
            "checks": self.checks,
            "bytes": size,
            "bytes_per_minute": round(size / seconds * 60) if seconds > 0 else 0,
            "width": self._size[0],
            "height": self._size[1],
            "error": self.error,
        }

    def _encode(self, seconds: float) -> None:
        assert self._scratch is not None
        lines = []
        for i, (at, path) in enumerate(self._frames):
            until = self._frames[i + 1][0] if i + 1 < len(self._frames) else max(seconds, at)
            lines.append(f"file '{path.name}'\nduration {max(0.001, until - at):.3f}")
        lines.append(f"file '{self._frames[-1][1].name}'")  # the concat demuxer's last frame
        listing = self._scratch / "frames.txt"
        listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
        command = [
            str(ffmpeg_path()), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "concat", "-safe", "0", "-i", str(listing), "-fps_mode", "vfr",
            "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
            "-threads", "1", "-b:v", "0", "-crf", "42", "-pix_fmt", "yuv420p",
            "-f", "webm", str(self.path),
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=FINISH_TIMEOUT, cwd=self._scratch
            )
        except subprocess.TimeoutExpired:
            self.error = f"video: ffmpeg did not finish in {FINISH_TIMEOUT:g} s"
            return
        if done.returncode != 0:
            text = done.stderr.decode(errors="replace").strip()[-500:]
            self.error = f"video: ffmpeg exited {done.returncode}: {text}"

    def input_markers(self) -> list[dict[str, Any]]:
        """The acting input events since the start, as seconds on the video's timeline."""
        acting = {"key_down": "key", "button_down": "button"}
        return [
            {"t": round(i.time - self.started, 3), "kind": "input", "label": acting[i.kind]}
            for i in self.client.inputs_since(self.started)
            if i.kind in acting
        ]
