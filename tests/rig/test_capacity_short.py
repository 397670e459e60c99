"""The capacity run, short: at most 2 desktop guests (plain VMs) started one after the other on
the local host, each typing 6 measured keys at its login screen per step over SPICE; the run
measures the one-desk baseline, then both desks at once, and ends with a capacity, its reason
and the curve (bench/p15_capacity.py is the full run: more desks, more keys, 3 runs)."""

import sys

import pytest

from tests.conftest import ROOT
from tests.prereq import require
from tests.vm_pool import desktop_built

pytestmark = pytest.mark.rig

sys.path.insert(0, str(ROOT / "bench"))
KEYS = 6


def test_two_desk_capacity_run(libvirt_uri, capsys):
    require(desktop_built(), "the desktop guest (run guest/build-desktop.sh)")
    from p15_capacity import capacity_run

    result = capacity_run(max_desks=2, keys=KEYS)
    print(result.summary())
    print("\n".join(result.curve()))
    assert "did not start" not in result.reason and "failed" not in result.reason, result.reason
    assert [s.desks for s in result.steps] == [1, 2], result.reason
    one, two = result.steps
    assert len(one.samples) == KEYS and len(two.samples) == 2 * KEYS, "every key measured"
    assert all(0 < v < 2.0 for v in one.samples + two.samples), (one.samples, two.samples)
    assert result.baseline_p95 == one.p95
    if two.p95 > one.p95 * 1.15:
        assert result.capacity == 1 and "above the baseline" in result.reason, result.reason
    else:
        assert result.capacity == 2 and result.at_least, result.summary()
    assert result.summary().startswith(f"capacity: {'at least ' * result.at_least}")
