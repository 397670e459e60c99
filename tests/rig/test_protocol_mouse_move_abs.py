"""Absolute moves land where asked: the tablet's ABS values, turned back into pixels, match."""

import pytest

from atp_core.errors import InvalidInput
from atp_core.protocol.mouse import ABS_MAX
from tests.rig.protocol_helpers import poll

pytestmark = pytest.mark.rig


def to_pixels(value: int, extent: int) -> float:
    """The inverse of the driver's scaling: 0..32767 on the device -> 0..extent-1 pixels."""
    return value * (extent - 1) / ABS_MAX


def test_absolute_positions_land_where_asked(vm_session):
    width, height = vm_session.screen.size()
    targets = [
        (0, 0),
        (width - 1, height - 1),
        (width // 2, height // 2),
        (17, height - 3),
        (width - 101, 42),
        (333, 211),
    ]
    vm_session.mouse.move(1, 1)
    for x, y in targets:
        mark = vm_session.input_log.mark()
        vm_session.mouse.move(x, y)
        events = poll(
            lambda m=mark: vm_session.input_log.mouse_events_since(m),
            lambda ev: bool(ev.abs_positions),
            timeout=20,
        )
        ax, ay = events.abs_positions[-1]
        got = (to_pixels(ax, width), to_pixels(ay, height))
        assert abs(got[0] - x) <= 1 and abs(got[1] - y) <= 1, (x, y, got, (ax, ay))


def test_a_move_along_one_axis_still_reports_the_full_position(vm_session):
    """The kernel reports only the axis that changed; the read-back fills in the other one."""
    width, height = vm_session.screen.size()
    first = vm_session.input_log.mark()
    vm_session.mouse.move(100, 100)
    poll(lambda: vm_session.input_log.mouse_events_since(first), lambda ev: ev.abs_positions)
    mark = vm_session.input_log.mark()
    vm_session.mouse.move(300, 100)
    events = poll(
        lambda: vm_session.input_log.mouse_events_since(mark),
        lambda ev: bool(ev.abs_positions),
        timeout=20,
    )
    ax, ay = events.abs_positions[-1]
    assert abs(to_pixels(ax, width) - 300) <= 1
    assert abs(to_pixels(ay, height) - 100) <= 1


def test_outside_the_screen_is_refused_with_the_screen_size(vm_session):
    width, height = vm_session.screen.size()
    with pytest.raises(InvalidInput, match=rf"\({width}, 5\) is outside the {width}x{height}"):
        vm_session.mouse.move(width, 5)
    with pytest.raises(InvalidInput, match="outside"):
        vm_session.mouse.move(-1, 0)
