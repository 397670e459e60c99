"""A drag holds the button still after the press and before the release (a window manager
pops a menu or starts a move on the press), by ``hold`` or DRAG_HOLD, over both paths."""

from __future__ import annotations

import time

import pytest

from atp_core.protocol.mouse import MouseGestures


class Recorder(MouseGestures):
    DRAG_PAUSE = 0.0

    def __init__(self) -> None:
        self.events: list[tuple[str, object, float]] = []

    def move(self, x: int, y: int) -> None:
        self.events.append(("move", (x, y), time.monotonic()))

    def _button(self, button: str, down: bool) -> None:
        self.events.append(("down" if down else "up", button, time.monotonic()))


@pytest.mark.parametrize(("hold", "expected"), [(None, MouseGestures.DRAG_HOLD), (0.3, 0.3)])
def test_the_button_is_held_still_after_the_press_and_before_the_release(hold, expected):
    mouse = Recorder()
    mouse.drag((10, 10), (50, 30), steps=4, hold=hold)
    kinds = [e[0] for e in mouse.events]
    assert kinds == ["move", "down", "move", "move", "move", "move", "up"]
    assert [e[1] for e in mouse.events if e[0] == "move"][-1] == (50, 30)
    down, first_move = mouse.events[1][2], mouse.events[2][2]
    last_move, up = mouse.events[-2][2], mouse.events[-1][2]
    assert first_move - down >= expected * 0.95
    assert up - last_move >= expected * 0.95


def test_the_button_is_released_when_a_move_fails():
    class Failing(Recorder):
        def move(self, x, y):
            if self.events:
                raise RuntimeError("gone")
            super().move(x, y)

    mouse = Failing()
    with pytest.raises(RuntimeError):
        mouse.drag((1, 1), (2, 2), hold=0)
    assert [e[0] for e in mouse.events] == ["move", "down", "up"]
