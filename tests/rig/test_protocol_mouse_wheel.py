"""Wheel notches arrive as REL_WHEEL: positive up, negative down, one event per notch."""

import pytest

from tests.rig.protocol_helpers import poll

pytestmark = pytest.mark.rig


@pytest.mark.parametrize("delta", [3, -2, 1])
def test_wheel_notches(vm_session, delta):
    mark = vm_session.input_log.mark()
    vm_session.mouse.scroll(delta)
    ev = poll(
        lambda: vm_session.input_log.mouse_events_since(mark),
        lambda e: e.wheel == delta,
        timeout=20,
    )
    assert ev.wheel == delta
    assert ev.button_presses == []  # wheel notches are not reported as button clicks


def test_zero_scroll_sends_nothing(vm_session):
    mark = vm_session.input_log.mark()
    vm_session.mouse.scroll(0)
    vm_session.mouse.scroll(1)  # a marker that something arrives at all
    ev = poll(lambda: vm_session.input_log.mouse_events_since(mark), lambda e: e.wheel >= 1)
    assert ev.wheel == 1
