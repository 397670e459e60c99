"""A unix-socket proxy in front of libvirtd, to cut connections without touching the daemon.

Clients connect with ``qemu+unix:///system?socket=<proxy.path>``; ``drop()`` closes every
connection passing through (as a network failure would), ``refuse`` makes new ones fail.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading

LIBVIRT_SOCKET = os.environ.get("ATP_LIBVIRT_SOCKET", "/run/libvirt/libvirt-sock")


class LibvirtProxy:
    def __init__(self, target: str = LIBVIRT_SOCKET) -> None:
        self.target = target
        self._dir = tempfile.mkdtemp(prefix="atp-proxy-")
        self.path = os.path.join(self._dir, "libvirt-sock")
        self.refuse = False
        self.accepted = 0
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(16)
        self._running = True
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def uri(self) -> str:
        return f"qemu+unix:///system?socket={self.path}"

    def _accept_loop(self) -> None:
        while self._running:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.refuse:
                client.close()
                continue
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.target)
            except OSError:
                client.close()
                upstream.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
                self.accepted += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    @property
    def live(self) -> int:
        with self._lock:
            return sum(1 for c, _ in self._pairs if c.fileno() != -1)

    def drop(self) -> None:
        """Cut every connection now (both ends see the socket close)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self._running = False
        self.drop()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
            os.rmdir(self._dir)
