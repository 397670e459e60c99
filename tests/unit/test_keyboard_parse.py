"""Key names, aliases, chords and US-layout text: pure parsing, no VM."""

import string

import pytest

from atp_core.errors import InvalidInput
from atp_core.protocol.input_log import KeyEvent, typed_text
from atp_core.protocol.keyboard import normalize_key, parse_key, text_to_chords, validate_text
from atp_core.protocol.keymap import LINUX_TO_QCODE, QCODE_TO_LINUX, US_LAYOUT

SHIFTED = '~!@#$%^&*()_+{}|:"<>?' + string.ascii_uppercase
PLAIN = "`1234567890-=[]\\;',./ \n\t" + string.ascii_lowercase


@pytest.mark.parametrize(
    "ch", list(string.printable.replace("\r", "").replace("\x0b", "").replace("\x0c", ""))
)
def test_every_us_character_maps_to_one_key_with_the_right_shift(ch):
    [chord] = text_to_chords(ch)
    assert chord[-1] in QCODE_TO_LINUX
    if ch in SHIFTED:
        assert chord == ["shift", chord[-1]]
    else:
        assert ch in PLAIN and len(chord) == 1


def test_the_layout_covers_printable_ascii_newline_and_tab():
    assert set(US_LAYOUT) == {chr(c) for c in range(0x20, 0x7F)} | {"\n", "\t"}


def test_specific_characters():
    assert text_to_chords("a") == [["a"]]
    assert text_to_chords("A") == [["shift", "a"]]
    assert text_to_chords("!") == [["shift", "1"]]
    assert text_to_chords('"') == [["shift", "apostrophe"]]
    assert text_to_chords("|") == [["shift", "backslash"]]
    assert text_to_chords("~") == [["shift", "grave_accent"]]
    assert text_to_chords(" \n\t") == [["spc"], ["ret"], ["tab"]]


def test_text_round_trips_through_the_evdev_decoder():
    """typing -> the key events the kernel reports -> text again, for the whole layout."""
    text = "".join(chr(c) for c in range(0x20, 0x7F)) + "\n\t"
    events = []
    for chord in text_to_chords(text):
        codes = [QCODE_TO_LINUX[q] for q in chord]
        events += [KeyEvent(c, LINUX_TO_QCODE[c], 1) for c in codes]
        events += [KeyEvent(c, LINUX_TO_QCODE[c], 0) for c in reversed(codes)]
    assert typed_text(events) == text


@pytest.mark.parametrize(("ch", "where"), [("é", 3), ("€", 0), ("\r", 1), ("你", 2), ("\x00", 0)])
def test_unsupported_character_is_named_with_its_position(ch, where):
    text = "abc"[:where] + ch + "z"
    with pytest.raises(InvalidInput) as info:
        validate_text(text)
    message = str(info.value)
    assert repr(ch) in message and f"U+{ord(ch):04X}" in message
    assert f"position {where}" in message and "US keyboard" in message
    with pytest.raises(InvalidInput):
        text_to_chords(text)


@pytest.mark.parametrize(
    ("alias", "qcode"),
    [
        ("enter", "ret"), ("Return", "ret"), ("ret", "ret"), ("esc", "esc"), ("Escape", "esc"),
        ("win", "meta_l"), ("meta", "meta_l"), ("super", "meta_l"), ("cmd", "meta_l"),
        ("space", "spc"), (" ", "spc"), ("del", "delete"), ("Delete", "delete"),
        ("pageup", "pgup"), ("PageDown", "pgdn"), ("ctrl", "ctrl"), ("control", "ctrl"),
        ("rctrl", "ctrl_r"), ("altgr", "alt_r"), ("bksp", "backspace"), ("ins", "insert"),
        ("F5", "f5"), ("A", "a"), ("key_a", "a"), ("printscreen", "sysrq"), ("ArrowUp", "up"),
        ("-", "minus"), ("/", "slash"), ("capslock", "caps_lock"), ("apps", "menu"),
    ],
)  # fmt: skip
def test_aliases(alias, qcode):
    assert normalize_key(alias) == qcode


@pytest.mark.parametrize(
    ("key", "chord"),
    [
        ("ctrl+alt+del", ["ctrl", "alt", "delete"]),
        ("Ctrl+Alt+Delete", ["ctrl", "alt", "delete"]),
        ("ctrl-c", ["ctrl", "c"]),
        ("ctrl+shift+esc", ["ctrl", "shift", "esc"]),
        ("win+r", ["meta_l", "r"]),
        ("alt+f4", ["alt", "f4"]),
        (["ctrl", "alt", "del"], ["ctrl", "alt", "delete"]),
        (("shift", "tab"), ["shift", "tab"]),
        ("enter", ["ret"]),
        ("-", ["minus"]),  # a lone separator character is the key itself
        ("+", None),
        ("ctrl+-", ["ctrl", "minus"]),
        ("ctrl++", None),
    ],
)
def test_chords(key, chord):
    if chord is None:
        with pytest.raises(InvalidInput):
            parse_key(key)
    else:
        assert parse_key(key) == chord


@pytest.mark.parametrize("bad", ["", [], "hyper", "ctrl+hyper", 5, None, ["ctrl", ""]])
def test_bad_keys_are_refused_with_what_is_allowed(bad):
    with pytest.raises(InvalidInput) as info:
        parse_key(bad)
    assert "key" in str(info.value)


def test_unknown_key_message_lists_choices():
    with pytest.raises(InvalidInput, match=r"unknown key 'hyper'; use a qcode name .* alias"):
        normalize_key("hyper")
