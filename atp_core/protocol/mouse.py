"""Mouse input through QMP ``input-send-event``: absolute (tablet), relative, buttons, wheel."""

from __future__ import annotations

import time

from atp_core.errors import InvalidInput

from .qmp import LibvirtQmp
from .screen import Screen

ABS_MAX = 32767
BUTTON_NAMES = ("left", "right", "middle")
CLICK_HOLD = 0.03
DOUBLE_GAP = 0.08


def scale(value: int, extent: int) -> int:
    """A pixel coordinate as the 0..32767 device coordinate QEMU's absolute axes use."""
    if extent <= 1:
        return 0
    return round(min(max(value, 0), extent - 1) * ABS_MAX / (extent - 1))


class MouseGestures:
    """Press, release, click, drag and wheel built from ``move`` and ``_button``: the one
    definition of the gestures for both display paths (the hypervisor's QMP events here, the
    SPICE inputs channel in :mod:`atp_core.protocol.spice`)."""

    #: pause between the moves of a drag (SPICE's inputs channel needs longer than QMP)
    DRAG_PAUSE = 0.01
    #: pause after the press and before the release of a drag: a window manager grabs the
    #: pointer on the press, and the guest's tablet queue (QEMU coalesces a full queue) has
    #: delivered the last move before the release, so the drop lands where the drag ended
    DRAG_HOLD = 0.15

    def move(self, x: int, y: int) -> object:  # pragma: no cover - implemented by each path
        raise NotImplementedError

    def _button(self, button: str, down: bool) -> None:  # pragma: no cover - each path
        raise NotImplementedError

    def press(self, button: str = "left") -> None:
        self._button(button, True)

    def release(self, button: str = "left") -> None:
        self._button(button, False)

    def click(
        self, x: int | None = None, y: int | None = None, button: str = "left", double=False
    ) -> None:
        if (x is None) != (y is None):
            raise InvalidInput("mouse click: give both x and y, or neither")
        if x is not None and y is not None:
            self.move(x, y)
        for i in range(2 if double else 1):
            if i:
                time.sleep(DOUBLE_GAP)
            self.press(button)
            time.sleep(CLICK_HOLD)
            self.release(button)

    def drag(
        self,
        start: tuple[int, int],
        end: tuple[int, int],
        button: str = "left",
        steps: int = 8,
        hold: float | None = None,
    ) -> None:
        """Press at ``start``, move there in ``steps``, release; ``hold`` seconds (default
        DRAG_HOLD) after the press and before the release."""
        hold = self.DRAG_HOLD if hold is None else max(0.0, float(hold))
        self.move(*start)
        time.sleep(self.DRAG_PAUSE)
        self.press(button)
        try:
            time.sleep(hold)
            for i in range(1, steps + 1):
                time.sleep(self.DRAG_PAUSE)
                self.move(
                    round(start[0] + (end[0] - start[0]) * i / steps),
                    round(start[1] + (end[1] - start[1]) * i / steps),
                )
            time.sleep(hold)
        finally:
            self.release(button)

    def scroll(self, delta: int) -> None:
        """Wheel: ``delta`` notches, up when positive, down when negative."""
        name = "wheel-up" if delta > 0 else "wheel-down"
        for _ in range(abs(int(delta))):
            self._wheel(name, True)
            self._wheel(name, False)

    def _wheel(self, name: str, down: bool) -> None:
        self._button(name, down)


class Mouse(MouseGestures):
    def __init__(self, qmp: LibvirtQmp, screen: Screen) -> None:
        self.qmp = qmp
        self.screen = screen

    def _events(self, events: list[dict]) -> None:
        self.qmp.execute("input-send-event", {"events": events})

    def move(self, x: int, y: int) -> tuple[int, int]:
        """Move to screen pixel (x, y); returns the device coordinates sent."""
        width, height = self.screen.size()
        if not (0 <= x < width and 0 <= y < height):
            raise InvalidInput(f"mouse position ({x}, {y}) is outside the {width}x{height} screen")
        ax, ay = scale(x, width), scale(y, height)
        self._events(
            [
                {"type": "abs", "data": {"axis": "x", "value": ax}},
                {"type": "abs", "data": {"axis": "y", "value": ay}},
            ]
        )
        return ax, ay

    def move_relative(self, dx: int, dy: int) -> None:
        self._events(
            [
                {"type": "rel", "data": {"axis": "x", "value": int(dx)}},
                {"type": "rel", "data": {"axis": "y", "value": int(dy)}},
            ]
        )

    def _button(self, button: str, down: bool) -> None:
        if button not in BUTTON_NAMES:
            raise InvalidInput(f"mouse button {button!r}: allowed {', '.join(BUTTON_NAMES)}")
        self._events([{"type": "btn", "data": {"down": down, "button": button}}])

    def _wheel(self, name: str, down: bool) -> None:
        self._events([{"type": "btn", "data": {"down": down, "button": name}}])
