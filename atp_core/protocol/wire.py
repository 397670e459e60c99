"""Tracing what goes over QMP and the guest agent, per VM, with a debug logger.

Every QMP command and guest-agent command, and its reply, is logged at DEBUG on
``atp_core.protocol.<qmp|qga>.wire.<vm>`` (the VM name with dots replaced by ``_``), so one
VM's traffic is switched on with ``ATP_LOG=info,atp_core.protocol.qga.wire.myvm=debug`` and all
of it with ``atp_core.protocol=debug``. Lines are cut at ``LIMIT`` characters. The traffic is
logged as sent: a guest command that carries a secret shows it, so trace on test systems only.

>>> wire_logger("qga", "demo.vm-1").name
'atp_core.protocol.qga.wire.demo_vm-1'
"""

from __future__ import annotations

import logging
import re

LIMIT = 2000


def wire_logger(channel: str, vm: str) -> logging.Logger:
    """The trace logger of ``channel`` (``qmp``, ``qga``) for the VM named ``vm``."""
    safe = re.sub(r"[^\w-]", "_", vm)
    return logging.getLogger(f"atp_core.protocol.{channel}.wire.{safe}")


def trace(log: logging.Logger, direction: str, text: str) -> None:
    """Log one message (``direction`` is ``>`` for sent, ``<`` for received) when tracing."""
    if log.isEnabledFor(logging.DEBUG):
        cut = text if len(text) <= LIMIT else f"{text[:LIMIT]}… ({len(text)} characters)"
        log.debug("%s %s", direction, cut)
