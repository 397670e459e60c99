"""The VM's screen: PNG screenshots through libvirt's screenshot stream."""

from __future__ import annotations

import io
import time

import libvirt
from PIL import Image

from .domain import DomainRef, translate


class Screen:
    def __init__(self, domain: DomainRef) -> None:
        self.domain = domain
        self._size: tuple[int, int] | None = None
        self._size_at = 0.0

    def screenshot(self, screen: int = 0) -> bytes:
        """The current screen as PNG bytes (converted with Pillow if libvirt sends PPM)."""
        dom = self.domain.running()
        conn = dom.connect()
        stream = conn.newStream(0)
        try:
            mime = dom.screenshot(stream, screen, 0)
            chunks = []
            while True:
                data = stream.recv(256 * 1024)
                if not data:
                    break
                chunks.append(data)
            stream.finish()
        except libvirt.libvirtError as exc:
            try:
                stream.abort()
            except libvirt.libvirtError:
                pass
            raise translate(exc, self.domain.name, "screenshot") from exc
        raw = b"".join(chunks)
        image = Image.open(io.BytesIO(raw))
        self._size, self._size_at = image.size, time.monotonic()
        if mime == "image/png" or raw[:8] == b"\x89PNG\r\n\x1a\n":
            return raw
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()

    def size(self, max_age: float = 2.0) -> tuple[int, int]:
        """(width, height) in pixels; taken from a fresh screenshot unless one is recent."""
        if self._size is None or time.monotonic() - self._size_at > max_age:
            self.screenshot()
        assert self._size is not None
        return self._size
