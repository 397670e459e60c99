"""send_text types key by key with the right Shift: the guest's key log shows the exact text."""

import pytest

from tests.rig.protocol_helpers import poll

pytestmark = pytest.mark.rig

HARD = 'Hello, World! 123 @#$%^&*()_+{}|:"<>?'


def key_log(vm) -> str:
    code, out, _ = vm.shell("cat /tmp/keys.log 2>/dev/null; true")
    assert code == 0
    return out


def fresh_line(vm_session) -> None:
    """Kill whatever earlier tests left half-typed on the guest's tty line (ctrl+u)."""
    vm_session.keyboard.send_key("ctrl+u")


def test_exact_text_arrives_in_key_log(rig_vm, vm_session):
    fresh_line(vm_session)
    before = key_log(rig_vm)
    vm_session.keyboard.send_text(HARD + "\n")
    log = poll(lambda: key_log(rig_vm), lambda t: len(t) > len(before), timeout=60)
    assert log[len(before) :] == HARD + "\n"


def test_every_us_character_arrives_through_the_guests_own_keymap(rig_vm, vm_session):
    """All 95 printable US characters, read back from the tty line (the guest kernel's keymap
    and line discipline turn the key codes into characters), not decoded with the sender's
    own layout table as the evdev read-back below is."""
    text = "".join(chr(c) for c in range(0x20, 0x7F))
    fresh_line(vm_session)
    before = key_log(rig_vm)
    vm_session.keyboard.send_text(text + "\n")
    log = poll(lambda: key_log(rig_vm), lambda t: t.count("\n") > before.count("\n"), 90)
    assert log[len(before) :] == text + "\n"


def test_every_us_character_round_trips_through_evdev(rig_vm, vm_session):
    """The full printable US set, read back from the kernel's key events (not the tty)."""
    text = "".join(chr(c) for c in range(0x20, 0x7F))
    mark = vm_session.input_log.mark()
    vm_session.keyboard.send_text(text, interval_ms=5)
    typed = poll(
        lambda: vm_session.input_log.typed_text_since(mark),
        lambda t: len(t) >= len(text),
        timeout=90,
    )
    assert typed == text
    # finish the line so the keylogger's buffer is clean for the next test
    vm_session.keyboard.send_key("ret")


def test_a_long_text_is_not_dropped_by_qemu(rig_vm, vm_session):
    """600 characters in one go: more than QEMU's 1024-entry input queue holds if the sender
    does not wait for each chord to play (it then drops keys after ~150 characters)."""
    import random
    import string

    rng = random.Random(3)
    alphabet = string.ascii_letters + string.digits + string.punctuation
    text = "".join(rng.choice(alphabet) for _ in range(600))
    mark = vm_session.input_log.mark()
    vm_session.keyboard.send_text(text, interval_ms=0, hold_ms=5)
    # send_text returns once QEMU delivered the last key: the guest has them (almost) at once
    typed = poll(lambda: vm_session.input_log.typed_text_since(mark), lambda t: t == text, 10)
    assert typed == text
    vm_session.keyboard.send_key("ctrl+u")  # drop the line from the tty


def test_newline_and_tab(rig_vm, vm_session):
    fresh_line(vm_session)
    before = key_log(rig_vm)
    vm_session.keyboard.send_text("a\tb\nsecond line\n")
    log = poll(lambda: key_log(rig_vm), lambda t: t.count("\n") >= before.count("\n") + 2, 60)
    new = log[len(before) :]
    # busybox read keeps the tab; the newline ends each line
    assert new == "a\tb\nsecond line\n"


def test_newline_and_tab_as_key_events(vm_session):
    mark = vm_session.input_log.mark()
    vm_session.keyboard.send_text("x\ty\n")
    keys = poll(lambda: vm_session.input_log.pressed_keys_since(mark), lambda k: len(k) >= 4, 30)
    assert keys == ["x", "tab", "y", "ret"]


def test_default_typing_is_exact_through_evdev(rig_vm, vm_session):
    """The default send_text (TEXT_HOLD_MS holds, the interval from the previous send): every
    printable US character, and 400 random ones, arrive exactly in the kernel's key events."""
    import random
    import string

    rng = random.Random(11)
    alphabet = string.ascii_letters + string.digits + string.punctuation + " "
    printable = "".join(chr(c) for c in range(0x20, 0x7F))
    text = printable + "".join(rng.choice(alphabet) for _ in range(400)) + printable[::-1]
    mark = vm_session.input_log.mark()
    vm_session.keyboard.send_text(text)
    typed = poll(lambda: vm_session.input_log.typed_text_since(mark), lambda t: t == text, 20)
    assert typed == text
    vm_session.keyboard.send_key("ctrl+u")
