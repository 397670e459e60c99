"""Record parsing accepts every timestamp shape and unknown codes; the state mapping used by
``vdi verify`` and the simulator agrees with itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atp_core.vdiplatform import Domain, DomainStatus, HostStatus, LibvirtState, states_agree
from atp_core.vdiplatform.enums import libvirt_to_platform
from atp_core.vdiplatform.records import parse_time
from vdisim.vo import date_time, timestamp_bean

MOMENT = datetime(2025, 12, 1, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2025-12-01 10:00:00",
        "2025-12-01T10:00:00",
        "2025-12-01T10:00:00Z",
        date_time(MOMENT),
        int(MOMENT.timestamp() * 1000),
        timestamp_bean(MOMENT),
    ],
)
def test_every_timestamp_shape_parses(value):
    assert parse_time(value) == MOMENT


def test_unparseable_or_missing_timestamps_are_none():
    assert parse_time(None) is None and parse_time("yesterday") is None and parse_time({}) is None


def test_unknown_codes_are_kept_as_ints_and_cpu_num_fallback():
    vm = Domain.from_api({"id": "x", "name": "n", "status": 42, "cpuNum": 8})
    assert vm.status == 42 and not isinstance(vm.status, DomainStatus) and vm.cpu == 8
    assert HostStatus.parse("3") is HostStatus.OFFLINE and HostStatus.parse("") is None


@pytest.mark.parametrize(
    ("platform", "libvirt_state", "agree"),
    [
        (DomainStatus.RUNNING, LibvirtState.RUNNING, True),
        (DomainStatus.RUNNING, LibvirtState.BLOCKED, True),
        (DomainStatus.SUSPENDED, LibvirtState.PAUSED, True),
        (DomainStatus.OFF, LibvirtState.SHUTOFF, True),
        (DomainStatus.SLEEPING, LibvirtState.SHUTOFF, True),
        (DomainStatus.SLEEPING, LibvirtState.PMSUSPENDED, True),
        (DomainStatus.RUNNING, LibvirtState.SHUTOFF, False),
        (DomainStatus.OFF, LibvirtState.SHUTDOWN, False),
        (DomainStatus.IN_PROGRESS, LibvirtState.RUNNING, False),
        (DomainStatus.RUNNING, LibvirtState.CRASHED, False),
        (None, LibvirtState.RUNNING, False),
    ],
)
def test_state_mapping(platform, libvirt_state, agree):
    assert states_agree(platform, libvirt_state) is agree


@pytest.mark.parametrize("state", [1, 2, 3, 5, 7])
def test_what_the_simulator_records_agrees_with_libvirt(state):
    assert states_agree(libvirt_to_platform(state), state)


def test_a_domain_from_the_api_is_a_whole_frozen_record():
    import dataclasses

    vo = {
        "id": "d-1",
        "name": "vm-1",
        "status": 1,
        "hostId": "h-1",
        "cpu": "2",
        "memory": 2048,
        "isModel": 0,
        "createTime": {"time": 1_700_000_000_000},
    }
    vm = Domain.from_api(vo)
    # built without __init__ (the listing's hot path): every field set, equal to the slow way
    assert set(vars(vm)) == {f.name for f in dataclasses.fields(Domain)}
    assert vm == Domain(**{f.name: getattr(vm, f.name) for f in dataclasses.fields(Domain)})
    assert (vm.status, vm.cpu, vm.is_model) == (DomainStatus.RUNNING, 2, False)
    assert vm.created == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    with pytest.raises(dataclasses.FrozenInstanceError):
        vm.name = "other"
