"""Relative moves arrive as REL_X/REL_Y on the guest's relative pointer (PS/2 mouse)."""

import pytest

from tests.rig.protocol_helpers import poll

pytestmark = pytest.mark.rig


def test_relative_moves_sum_up(vm_session):
    mark = vm_session.input_log.mark()
    vm_session.mouse.move_relative(30, -12)
    vm_session.mouse.move_relative(-5, 40)
    events = poll(
        lambda: vm_session.input_log.mouse_events_since(mark),
        lambda ev: (ev.rel_x, ev.rel_y) == (25, 28),
        timeout=20,
    )
    assert (events.rel_x, events.rel_y) == (25, 28)
    assert events.button_presses == []
