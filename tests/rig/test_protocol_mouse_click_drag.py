"""Clicks, double-clicks and drags with each button arrive as evdev button events."""

import pytest

from atp_core.errors import InvalidInput
from atp_core.protocol.mouse import ABS_MAX
from tests.rig.protocol_helpers import poll

pytestmark = pytest.mark.rig


def events_after(vm_session, mark, done):
    return poll(lambda: vm_session.input_log.mouse_events_since(mark), done, timeout=20)


@pytest.mark.parametrize(
    ("button", "x", "y"), [("left", 100, 50), ("right", 250, 30), ("middle", 9, 390)]
)
def test_click_each_button_at_a_position(vm_session, button, x, y):
    width, height = vm_session.screen.size()
    vm_session.mouse.move(width // 2, height // 2)  # the kernel drops ABS values that repeat
    mark = vm_session.input_log.mark()
    vm_session.mouse.click(x, y, button=button)
    ev = events_after(vm_session, mark, lambda e: len(e.button_releases) >= 1)
    assert ev.button_presses == [button]
    assert ev.button_releases == [button]
    ax, ay = ev.abs_positions[-1]
    assert abs(ax * (width - 1) / ABS_MAX - x) <= 1
    assert abs(ay * (height - 1) / ABS_MAX - y) <= 1


def test_double_click(vm_session):
    mark = vm_session.input_log.mark()
    vm_session.mouse.click(200, 120, double=True)
    ev = events_after(vm_session, mark, lambda e: len(e.button_releases) >= 2)
    assert ev.button_presses == ["left", "left"]
    assert ev.button_releases == ["left", "left"]


def test_click_in_place_does_not_move(vm_session):
    mark = vm_session.input_log.mark()
    vm_session.mouse.click(button="right")
    ev = events_after(vm_session, mark, lambda e: len(e.button_releases) >= 1)
    assert ev.button_presses == ["right"]
    assert ev.abs_positions == []


def test_drag_holds_the_button_along_the_path(vm_session):
    width, height = vm_session.screen.size()
    start, end = (50, 60), (450, 300)
    mark = vm_session.input_log.mark()
    vm_session.mouse.drag(start, end, steps=8)
    ev = events_after(vm_session, mark, lambda e: len(e.button_releases) >= 1)
    assert ev.button_presses == ["left"]
    assert ev.button_releases == ["left"]
    pixels = [
        (ax * (width - 1) / ABS_MAX, ay * (height - 1) / ABS_MAX) for ax, ay in ev.abs_positions
    ]
    assert len(pixels) == 9  # the start and 8 steps
    assert abs(pixels[0][0] - start[0]) <= 1 and abs(pixels[0][1] - start[1]) <= 1
    assert abs(pixels[-1][0] - end[0]) <= 1 and abs(pixels[-1][1] - end[1]) <= 1
    xs = [p[0] for p in pixels]
    assert xs == sorted(xs)  # monotonic path from start to end


def test_drag_releases_the_button_even_when_a_step_fails(vm_session):
    """A move outside the screen mid-drag raises, but the button is not left pressed."""
    width, _ = vm_session.screen.size()
    mark = vm_session.input_log.mark()
    with pytest.raises(InvalidInput):
        vm_session.mouse.drag((10, 10), (width + 500, 10), steps=2)
    ev = events_after(vm_session, mark, lambda e: len(e.button_releases) >= 1)
    assert ev.button_presses == ["left"]
    assert ev.button_releases == ["left"]


def test_unknown_button_is_refused(vm_session):
    with pytest.raises(InvalidInput, match="mouse button 'side': allowed left, right, middle"):
        vm_session.mouse.click(button="side")
