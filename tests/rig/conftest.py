"""Fixtures of the rig tests that drive a guest through the engine (``atp_core``)."""

from __future__ import annotations

import pytest

from tests.rig.protocol_helpers import open_session


@pytest.fixture
def vm_session(rig_vm):
    """A ``VmSession`` on the borrowed rig guest, over a fresh ``HostConnection``."""
    with open_session(rig_vm) as session:
        yield session
