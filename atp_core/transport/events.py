"""The libvirt event loop, run once per process in a daemon thread.

Keepalive and close callbacks only work when an event loop implementation is registered before
connections are opened; every HostConnection calls ``ensure_event_loop()`` first.
"""

from __future__ import annotations

import threading

import libvirt

_lock = threading.Lock()
_started = False


def _silence(_ctx, _err) -> None:
    """libvirt prints every error to stderr by default; errors reach us as exceptions."""


def ensure_event_loop() -> None:
    global _started
    with _lock:
        if _started:
            return
        libvirt.registerErrorHandler(_silence, None)
        libvirt.virEventRegisterDefaultImpl()

        def run() -> None:
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name="libvirt-events", daemon=True).start()
        _started = True
