"""SPICE is a named slot that says clearly it is not supported yet."""

import pytest

from atp_core.errors import InfrastructureError, UnsupportedError
from atp_core.protocol import SpiceSession

pytestmark = pytest.mark.rig


def test_spice_says_not_supported(vm_session):
    with pytest.raises(UnsupportedError, match="SPICE is not supported yet") as info:
        SpiceSession(vm_session.ref)
    assert "VNC" in str(info.value)  # says what to use instead
    # not an infrastructure error: a run reports it as a wrong request, not a broken host
    assert not isinstance(info.value, InfrastructureError)
