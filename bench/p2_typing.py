"""P2: typing rate and exactness over both display paths, against a raw loop in the same run.

``--display hypervisor`` (default): 200 characters (seeded, printable ASCII with every symbol)
typed into the text guest's tty keylogger. raw = what a script with only libvirt does: one
``virDomain.sendKey`` per character (Linux key codes, Shift added where the US layout needs
it), each key held ``--hold`` ms, ``--gap`` ms between characters (default 10/10, the old
engine defaults); atp_core = ``Keyboard.send_text`` with its defaults (flow-controlled: QMP
``input-send-event`` batches as the guest's keyboard device takes them, ``keyboard_flow``).
``--display spice``: the same into the desktop guest's "keylog" xterm over SPICE: raw = a
loop of spice-gtk ``key_press``/``key_release`` calls ``--spice-gap`` ms apart (default 16,
the old engine default), atp_core = ``SpiceClient.send_text`` with its defaults (the same flow
control, watching the virtio keyboard). ``--display both`` runs both paths in one run.

Exactness: the line in the guest's ``/tmp/keys.log`` is byte-for-byte the text sent. "send"
is the time the sending loop took, "in log" the time until the line was in the key log (what a
test step waits for; the key log is polled every 50 ms through the guest agent); the rate is
characters / "in log". Alternating rounds. ``--busy N`` runs N CPU-burning processes during
the rounds (load for the exactness check; they stop with the bench).

Run: ``.venv/bin/python bench/p2_typing.py [--display hypervisor|spice|both] [--chars 200]
[--rounds 2] [--hold 10] [--gap 10] [--spice-gap 16] [--busy N] [--domain NAME]
[--desktop NAME]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import string
import subprocess
import sys
import time

import libvirt
from rig_guest import ROOT, bench_desktop, bench_guest

sys.path.insert(0, str(ROOT))

from measured import announce  # noqa: E402

from atp_core.protocol import VmSession  # noqa: E402
from atp_core.protocol.keymap import QCODE_TO_LINUX, US_LAYOUT  # noqa: E402
from atp_core.transport import HostConnection  # noqa: E402

SHIFT = 42


def raw_type(dom: libvirt.virDomain, text: str, hold_ms: int, gap_ms: int) -> None:
    """What a script with only libvirt would do: one sendKey per character."""
    for i, ch in enumerate(text):
        if i:
            time.sleep(gap_ms / 1000)
        qcode, shift = US_LAYOUT[ch]
        codes = [SHIFT, QCODE_TO_LINUX[qcode]] if shift else [QCODE_TO_LINUX[qcode]]
        dom.sendKey(libvirt.VIR_KEYCODE_SET_LINUX, hold_ms, codes, len(codes), 0)


def raw_spice_type(client, text: str, gap_ms: int) -> None:
    """The least a script on spice-gtk would do: press and release per character, a gap."""
    from atp_core.protocol.spice import scancode

    for i, ch in enumerate(text):
        if i:
            time.sleep(gap_ms / 1000)
        qcode, shift = US_LAYOUT[ch]
        codes = [scancode("shift"), scancode(qcode)] if shift else [scancode(qcode)]

        def send(inputs, codes=codes):
            for c in codes:
                inputs.key_press(c)
            for c in reversed(codes):
                inputs.key_release(c)

        client._post_input(send)
    client._flush()


def key_log_lines(vm) -> list[str]:
    code, out, _ = vm.shell("cat /tmp/keys.log 2>/dev/null; true")
    return out.split("\n")[:-1] if code == 0 else []


def wait_for_line(vm, count: int, timeout: float = 60) -> list[str]:
    """Poll the key log until it has ``count`` lines (TCG guests lag behind the sender)."""
    deadline = time.monotonic() + timeout
    lines = key_log_lines(vm)
    while len(lines) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        lines = key_log_lines(vm)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--hold", type=int, default=10, help="raw sendKey: ms each key is held")
    parser.add_argument("--gap", type=int, default=10, help="raw sendKey: ms between keys")
    parser.add_argument("--spice-gap", type=int, default=16, help="raw SPICE: ms between keys")
    parser.add_argument("--busy", type=int, default=0, help="CPU-burning processes meanwhile")
    parser.add_argument("--domain", help="a running rig guest to use (default: boot one)")
    parser.add_argument("--desktop", help="a running rig desktop guest (default: boot one)")
    parser.add_argument("--display", choices=("hypervisor", "spice", "both"), default="hypervisor")
    args = parser.parse_args()
    announce("== P2 typing (bench/p2_typing.py)")
    status = 0
    if args.display in ("hypervisor", "both"):
        status |= bench_hypervisor(args)
    if args.display in ("spice", "both"):
        status |= bench_spice(args)
    return status


@contextlib.contextmanager
def busy(count: int):
    """``count`` processes spinning on the CPU while the rounds run (killed at the end)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        if procs:
            time.sleep(5)  # let the load build up
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


ALPHABET = string.ascii_letters + string.digits + string.punctuation + " "


def bench_hypervisor(args) -> int:
    alphabet = ALPHABET
    with bench_guest(args.domain) as vm:
        raw_conn = libvirt.open(vm.uri)
        raw_dom = raw_conn.lookupByName(vm.name)
        host = HostConnection(vm.uri).connect()
        session = VmSession(host, vm.name)
        times: dict[str, list[float]] = {"raw": [], "atp_core": []}
        exact: dict[str, list[bool]] = {"raw": [], "atp_core": []}
        lag: dict[str, list[float]] = {"raw": [], "atp_core": []}
        rng = random.Random(2)
        with contextlib.ExitStack() as stack:
            stack.callback(raw_conn.close)
            stack.callback(host.close)
            stack.enter_context(busy(args.busy))
            session.keyboard.send_key("ctrl+u")  # a fresh line on the tty
            for round_no in range(args.rounds):
                order = ["raw", "atp_core"] if round_no % 2 == 0 else ["atp_core", "raw"]
                for side in order:
                    # no leading/trailing space: the tty would show them, but keep it readable
                    text = "".join(rng.choice(alphabet) for _ in range(args.chars)).strip()
                    text = text.ljust(args.chars, "x")
                    # release anything a lossy run left pressed (a lost Shift release sticks)
                    session.keyboard.send_keys(["shift", "shift_r", "ctrl", "alt"])
                    before = len(key_log_lines(vm))
                    t0 = time.perf_counter()
                    if side == "raw":
                        raw_type(raw_dom, text + "\n", args.hold, args.gap)
                    else:
                        session.keyboard.send_text(text + "\n")
                    t1 = time.perf_counter()
                    lines = wait_for_line(vm, before + 1)
                    t2 = time.perf_counter()
                    times[side].append(t1 - t0)
                    lag[side].append(t2 - t0)
                    if len(lines) <= before:  # keys were lost, the line never ended: end it
                        session.keyboard.send_text("\n")
                        wait_for_line(vm, before + 1)
                    exact[side].append(len(lines) > before and lines[before] == text)
                    if not exact[side][-1]:
                        got = lines[before] if len(lines) > before else None
                        print(f"{side}: sent {text!r}\n  got  {got!r}", file=sys.stderr)
            load = os.getloadavg()
    raw = f"raw: sendKey per character, hold {args.hold} ms, gap {args.gap} ms"
    return report("hypervisor", vm.name, args, times, lag, exact, raw, load)


def report(path, name, args, times, lag, exact, raw, load) -> int:
    print(f"P2 typing ({path}): {args.chars} characters x {args.rounds} rounds on {name}, median")
    print(f"{raw}; atp_core: send_text defaults (flow-controlled)")
    busy_note = f", {args.busy} busy processes" if args.busy else ""
    print(f"load after the rounds: {' '.join(f'{x:.2f}' for x in load)}{busy_note}")
    print(f"{'':>10}  {'send s':>7}  {'in log s':>8}  {'ms/char':>7}  {'exact':>7}")
    for side in ("raw", "atp_core"):
        send, in_log = statistics.median(times[side]), statistics.median(lag[side])
        ok = f"{sum(exact[side])}/{len(exact[side])}"
        print(
            f"{side:>10}  {send:>7.2f}  {in_log:>8.2f}  {1000 * in_log / args.chars:>7.1f}  {ok:>7}"
        )
    send_ratio = statistics.median(times["atp_core"]) / statistics.median(times["raw"])
    log_ratio = statistics.median(lag["atp_core"]) / statistics.median(lag["raw"])
    print(f"ratio atp_core/raw: send {send_ratio:.2f}, until in the key log {log_ratio:.2f}")
    rate = args.chars / statistics.median(lag["atp_core"])
    print(f"atp_core rate until in the key log: {rate:.0f} characters/s")
    return 0 if all(exact["atp_core"]) else 1  # the raw loop may lose keys: that is the finding


def bench_spice(args) -> int:
    from atp_core.protocol.spice import SpiceClient

    gap = args.spice_gap
    with bench_desktop(args.desktop) as vm:
        raw_conn = libvirt.open(vm.uri)
        session = VmSession(raw_conn, vm.name)
        client = SpiceClient.for_domain(session.ref).connect()
        times: dict[str, list[float]] = {"raw": [], "atp_core": []}
        exact: dict[str, list[bool]] = {"raw": [], "atp_core": []}
        lag: dict[str, list[float]] = {"raw": [], "atp_core": []}
        rng = random.Random(2)
        with contextlib.ExitStack() as stack:
            stack.callback(raw_conn.close)
            stack.callback(client.close)
            client.move(200, 110)  # twm: keys go to the window under the pointer (keylog)
            time.sleep(1)  # twm moves the focus when X tells it the pointer entered
            client.send_key("ctrl+u")  # a fresh line in the keylog xterm
            stack.enter_context(busy(args.busy))
            for round_no in range(args.rounds):
                order = ["raw", "atp_core"] if round_no % 2 == 0 else ["atp_core", "raw"]
                for side in order:
                    text = "".join(rng.choice(ALPHABET) for _ in range(args.chars)).strip()
                    text = text.ljust(args.chars, "x")
                    client.send_keys(["shift", "shift_r", "ctrl", "alt"])
                    before = len(key_log_lines(vm))
                    t0 = time.perf_counter()
                    if side == "raw":
                        raw_spice_type(client, text + "\n", gap)
                    else:
                        client.send_text(text + "\n")
                    t1 = time.perf_counter()
                    lines = wait_for_line(vm, before + 1)
                    t2 = time.perf_counter()
                    times[side].append(t1 - t0)
                    lag[side].append(t2 - t0)
                    if len(lines) <= before:
                        client.send_text("\n", interval_ms=100)
                        wait_for_line(vm, before + 1)
                    exact[side].append(len(lines) > before and lines[before] == text)
                    if not exact[side][-1]:
                        got = lines[before] if len(lines) > before else None
                        print(f"spice {side}: sent {text!r}\n  got  {got!r}", file=sys.stderr)
            load = os.getloadavg()
    raw = f"raw: spice-gtk key_press/key_release per character, gap {gap} ms"
    return report("spice", vm.name, args, times, lag, exact, raw, load)


if __name__ == "__main__":
    sys.exit(main())
