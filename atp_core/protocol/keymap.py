"""Keys: QEMU qcode names, their Linux input codes, aliases, and the US layout for text."""

from __future__ import annotations

# qcode -> Linux input event code (KEY_*), the code the guest kernel reports.
QCODE_TO_LINUX: dict[str, int] = {
    "esc": 1, "1": 2, "2": 3, "3": 4, "4": 5, "5": 6, "6": 7, "7": 8, "8": 9, "9": 10, "0": 11,
    "minus": 12, "equal": 13, "backspace": 14, "tab": 15,
    "q": 16, "w": 17, "e": 18, "r": 19, "t": 20, "y": 21, "u": 22, "i": 23, "o": 24, "p": 25,
    "bracket_left": 26, "bracket_right": 27, "ret": 28, "ctrl": 29,
    "a": 30, "s": 31, "d": 32, "f": 33, "g": 34, "h": 35, "j": 36, "k": 37, "l": 38,
    "semicolon": 39, "apostrophe": 40, "grave_accent": 41, "shift": 42, "backslash": 43,
    "z": 44, "x": 45, "c": 46, "v": 47, "b": 48, "n": 49, "m": 50,
    "comma": 51, "dot": 52, "slash": 53, "shift_r": 54, "kp_multiply": 55, "alt": 56,
    "spc": 57, "caps_lock": 58,
    "f1": 59, "f2": 60, "f3": 61, "f4": 62, "f5": 63, "f6": 64, "f7": 65, "f8": 66, "f9": 67,
    "f10": 68, "num_lock": 69, "scroll_lock": 70,
    "kp_7": 71, "kp_8": 72, "kp_9": 73, "kp_subtract": 74, "kp_4": 75, "kp_5": 76, "kp_6": 77,
    "kp_add": 78, "kp_1": 79, "kp_2": 80, "kp_3": 81, "kp_0": 82, "kp_decimal": 83,
    "less": 86, "f11": 87, "f12": 88, "kp_enter": 96, "ctrl_r": 97, "kp_divide": 98,
    "sysrq": 99, "alt_r": 100, "home": 102, "up": 103, "pgup": 104, "left": 105, "right": 106,
    "end": 107, "down": 108, "pgdn": 109, "insert": 110, "delete": 111, "pause": 119,
    "meta_l": 125, "meta_r": 126, "menu": 127,
}  # fmt: skip
LINUX_TO_QCODE = {code: name for name, code in QCODE_TO_LINUX.items()}

ALIASES: dict[str, str] = {
    "enter": "ret", "return": "ret", "escape": "esc", "space": "spc", " ": "spc",
    "control": "ctrl", "lctrl": "ctrl", "ctrl_l": "ctrl", "rctrl": "ctrl_r",
    "lshift": "shift", "shift_l": "shift", "rshift": "shift_r",
    "lalt": "alt", "alt_l": "alt", "ralt": "alt_r", "altgr": "alt_r", "option": "alt",
    "win": "meta_l", "windows": "meta_l", "super": "meta_l", "meta": "meta_l", "cmd": "meta_l",
    "command": "meta_l", "lwin": "meta_l", "rwin": "meta_r",
    "del": "delete", "ins": "insert", "bksp": "backspace", "back": "backspace",
    "pageup": "pgup", "page_up": "pgup", "pagedown": "pgdn", "page_down": "pgdn",
    "capslock": "caps_lock", "numlock": "num_lock", "scrolllock": "scroll_lock",
    "printscreen": "sysrq", "print": "sysrq", "prtsc": "sysrq", "apps": "menu",
    "arrowup": "up", "arrowdown": "down", "arrowleft": "left", "arrowright": "right",
    "-": "minus", "=": "equal", "[": "bracket_left", "]": "bracket_right", ";": "semicolon",
    "'": "apostrophe", "`": "grave_accent", "\\": "backslash", ",": "comma", ".": "dot",
    "/": "slash",
}  # fmt: skip

# US layout: character -> (qcode, shift needed)
US_LAYOUT: dict[str, tuple[str, bool]] = {}
for _ch in "abcdefghijklmnopqrstuvwxyz":
    US_LAYOUT[_ch] = (_ch, False)
    US_LAYOUT[_ch.upper()] = (_ch, True)
for _ch in "0123456789":
    US_LAYOUT[_ch] = (_ch, False)
for _plain, _shifted, _qcode in [
    ("1", "!", "1"), ("2", "@", "2"), ("3", "#", "3"), ("4", "$", "4"), ("5", "%", "5"),
    ("6", "^", "6"), ("7", "&", "7"), ("8", "*", "8"), ("9", "(", "9"), ("0", ")", "0"),
    ("-", "_", "minus"), ("=", "+", "equal"), ("[", "{", "bracket_left"),
    ("]", "}", "bracket_right"), ("\\", "|", "backslash"), (";", ":", "semicolon"),
    ("'", '"', "apostrophe"), ("`", "~", "grave_accent"), (",", "<", "comma"),
    (".", ">", "dot"), ("/", "?", "slash"),
]:  # fmt: skip
    US_LAYOUT[_plain] = (_qcode, False)
    US_LAYOUT[_shifted] = (_qcode, True)
US_LAYOUT[" "] = ("spc", False)
US_LAYOUT["\n"] = ("ret", False)
US_LAYOUT["\t"] = ("tab", False)

# Linux code -> (plain char, shifted char), for reading typed text back from evdev.
LINUX_TO_CHARS: dict[int, list[str]] = {}
for _ch, (_qcode, _shift) in US_LAYOUT.items():
    _slot = LINUX_TO_CHARS.setdefault(QCODE_TO_LINUX[_qcode], ["", ""])
    _slot[1 if _shift else 0] = _ch
MODIFIERS = {"shift", "shift_r", "ctrl", "ctrl_r", "alt", "alt_r", "meta_l", "meta_r"}
