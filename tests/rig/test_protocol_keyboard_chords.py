"""send_key: chords reach the guest as one chord (ctrl+alt+del fires init), aliases, lists."""

import pytest

from atp_core.errors import InvalidInput
from tests.rig.protocol_helpers import poll

pytestmark = pytest.mark.rig


def test_ctrl_alt_del_reaches_the_guest(rig_vm, vm_session):
    """busybox init runs its ::ctrlaltdel action only if the kernel saw the real chord."""
    rig_vm.shell("touch /tmp/keys.log")
    before = rig_vm.shell("grep -c CTRL-ALT-DEL /tmp/keys.log; true")[1].strip() or "0"
    vm_session.keyboard.send_key("ctrl+alt+del")
    count = poll(
        lambda: int(rig_vm.shell("grep -c CTRL-ALT-DEL /tmp/keys.log; true")[1].strip() or 0),
        lambda n: n > int(before),
        timeout=30,
    )
    assert count == int(before) + 1


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ctrl+alt+del", "ctrl+alt+delete"),
        ("ctrl-c", "ctrl+c"),
        (["ctrl", "shift", "esc"], "ctrl+shift+esc"),
        ("Enter", "ret"),
        ("escape", "esc"),
        ("win+r", "meta_l+r"),
        ("PageDown", "pgdn"),
        ("alt+f4", "alt+f4"),
    ],
)
def test_chords_and_aliases_as_the_kernel_sees_them(vm_session, key, expected):
    mark = vm_session.input_log.mark()
    vm_session.keyboard.send_key(key)
    keys = poll(lambda: vm_session.input_log.pressed_keys_since(mark), bool, timeout=30)
    assert keys == [expected]
    # every key pressed is released again (the release may arrive a moment later)
    events = poll(
        lambda: vm_session.input_log.key_events_since(mark),
        lambda evs: balanced(evs),
        timeout=10,
    )
    assert balanced(events)


def balanced(events) -> bool:
    """Some key was pressed, and every pressed key was released."""
    presses = sorted(e.code for e in events if e.value == 1)
    return bool(presses) and presses == sorted(e.code for e in events if e.value == 0)


def test_a_list_of_keys_is_pressed_in_order(vm_session):
    mark = vm_session.input_log.mark()
    vm_session.keyboard.send_keys(["h", "i", "shift+1", "backspace", "ret"], interval_ms=20)
    keys = poll(lambda: vm_session.input_log.pressed_keys_since(mark), lambda k: len(k) >= 5)
    assert keys == ["h", "i", "shift+1", "backspace", "ret"]


def test_hold_time_is_honoured(vm_session):
    """A key held 300 ms is released about 300 ms after it was pressed (guest clock)."""
    import struct

    from atp_core.protocol.input_log import EVENT

    mark = vm_session.input_log.mark()
    vm_session.keyboard.send_key("a", hold_ms=300)
    poll(lambda: vm_session.input_log.key_events_since(mark), balanced, timeout=30)
    dev = next(d for d, n in vm_session.input_log.devices().items() if "keyboard" in n.lower())
    raw = vm_session.agent.file_read(f"/tmp/{dev}.bin", offset=mark.offsets[dev])
    times = {}
    for i in range(0, len(raw) - len(raw) % EVENT.size, EVENT.size):
        sec, usec, typ, code, value = struct.unpack_from("<qqHHi", raw, i)
        if typ == 1 and code == 30 and value in (0, 1):
            times.setdefault(value, sec + usec / 1e6)
    assert set(times) == {0, 1}
    assert times[0] - times[1] >= 0.2  # held at least the hold (guest clock), then released
    # leave the guest's tty line empty, and wait until the guest saw the keys go up again
    mark = vm_session.input_log.mark()
    vm_session.keyboard.send_key("ctrl+u")
    poll(lambda: vm_session.input_log.key_events_since(mark), balanced, timeout=30)


def test_unknown_key_is_refused_before_anything_is_sent(vm_session):
    mark = vm_session.input_log.mark()
    with pytest.raises(InvalidInput, match="unknown key 'hyper'"):
        vm_session.keyboard.send_key("ctrl+hyper")
    assert vm_session.input_log.key_events_since(mark) == []
