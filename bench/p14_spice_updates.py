"""P14: display updates delivered by the SPICE client while the engine is busy, vs idle.

A terminal on the desktop guest (an xterm the bench opens) repaints a block of its cells
``--updates`` times, each time in the next colour of xterm's 256-colour cube, ``--gap`` ms
apart (longer than QEMU's 30 ms display refresh, so every colour is its own update): the
updates the guest produced are known and numbered. The client (``SpiceClient``, one
connection) stamps every update region it receives; after each, the bench reads the colour of
a pixel of that block out of the client's own frame, in the client's GLib thread, so every
frame the client delivered is looked at. "seen" is how many of the colours were in a delivered
frame, in order.

Two phases, in one run: the engine idle (the main thread waits), then busy: ``--busy``
threads doing what the engine does between polls (screen checks of the client's frames against
50 references, pure-Python work), all in the client's process and so competing with its GLib
thread for the interpreter. Figures: produced, seen, missing, update regions received, screen
checks the busy threads did meanwhile, and the median time between two delivered colours.

Run: ``.venv/bin/python bench/p14_spice_updates.py [--updates 200] [--gap 50] [--busy 2]
[--desktop NAME]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

from rig_guest import ROOT, bench_desktop

sys.path.insert(0, str(ROOT))

from measured import announce  # noqa: E402

X = "DISPLAY=:0 XAUTHORITY=$(ls /var/lib/xdm/authdir/authfiles/* | head -n1)"


CUBE = (0, 95, 135, 175, 215, 255)  # xterm's 256-colour cube levels (indexes 16..231)
PAINTER = "atp-p14"


def colour(index: int) -> tuple[int, int, int]:
    """RGB of xterm colour ``index`` (16..231)."""
    n = index - 16
    return CUBE[n // 36], CUBE[(n // 6) % 6], CUBE[n % 6]


def open_painter(vm) -> tuple[str, tuple[int, int]]:
    """An xterm whose tty the bench writes to: (its tty, a pixel inside its first cells)."""
    vm.shell(f"pkill -f {PAINTER} 2>/dev/null; rm -f /tmp/{PAINTER}.tty; true")
    vm.shell(
        f"{X} setsid xterm -geometry 20x2+600+520 -title {PAINTER} "
        f"-e sh -c 'tty > /tmp/{PAINTER}.tty; exec sleep 100000' >/dev/null 2>&1 </dev/null &"
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        code, out, _ = vm.shell(
            f"test -s /tmp/{PAINTER}.tty && cat /tmp/{PAINTER}.tty && {X} xwininfo -name {PAINTER}"
        )
        if code == 0 and out.startswith("/dev/") and "IsViewable" in out:
            tty = out.splitlines()[0].strip()
            values = dict(
                (k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in out.splitlines())
            )
            x0, y0 = int(values["Absolute upper-left X"]), int(values["Absolute upper-left Y"])
            return tty, (x0 + 25, y0 + 8)
        time.sleep(0.5)
    raise SystemExit("the painting xterm was not mapped within 120 s")


def busy_work(stop: threading.Event, client, counter: list[int]) -> None:
    """What an engine thread does while a run goes on: screen checks and Python work."""
    import io
    import tempfile
    from pathlib import Path

    from atp_core.orchestrator import screen_match
    from atp_core.orchestrator.runtime import ReferenceSpec
    from atp_core.orchestrator.steps.screen import match_candidates

    folder = Path(tempfile.mkdtemp(prefix="atp-p14-"))
    image = client.frame().image()
    specs = []
    for i in range(50):
        path = folder / f"ref-{i}.png"
        image.save(path)
        x, y = 20 + (i % 10) * 90, 300 + (i // 10) * 60
        specs.append(ReferenceSpec(path=path, areas=[(x, y, 80, 40)], threshold=1.01))
    while not stop.is_set():
        out = io.BytesIO()
        client.frame().image().save(out, format="PNG", compress_level=1)
        match_candidates(specs, screen_match.Frame(out.getvalue()))
        total = 0
        for n in range(200_000):  # pure Python: holds the interpreter between switches
            total += n * n
        counter[0] += 1


def phase(vm, client, args, tty, point, first: int, busy: int) -> dict:
    seen: list[tuple[float, tuple[int, int, int]]] = []
    regions = [0]
    original = client._invalidate
    x, y = point

    def watched(ux, uy, uw, uh):
        original(ux, uy, uw, uh)
        regions[0] += 1
        if ux <= x < ux + uw and uy <= y < uy + uh:
            pixels = client._pixels
            if pixels is not None:
                b, g, r = (int(v) for v in pixels[y, x, :3])
                seen.append((time.monotonic(), (r, g, b)))

    stop = threading.Event()
    counter = [0]
    workers = [
        threading.Thread(target=busy_work, args=(stop, client, counter), daemon=True)
        for _ in range(busy)
    ]
    for worker in workers:
        worker.start()
    if busy:
        time.sleep(2)  # the workers have loaded their references and are busy
    client._invalidate = watched
    indexes = [16 + (first + i) % 216 for i in range(args.updates)]
    colours = [colour(i) for i in indexes]
    listed = " ".join(str(i) for i in indexes)
    script = (
        f"for i in {listed}; do printf '\\033[H\\033[48;5;%dm          \\033[0m' $i "
        f"> {tty}; sleep {args.gap / 1000:.3f}; done"
    )
    started = time.monotonic()
    code, _, err = vm.shell(script, timeout=300)
    if code != 0:
        raise SystemExit(f"the repaint loop failed in the guest ({code}): {err.strip()}")
    produced_at = time.monotonic()
    time.sleep(1.5)  # the last updates are on their way
    client._invalidate = original
    stop.set()
    for worker in workers:
        worker.join()
    order = [c for _, c in seen]
    found, pos, firsts = 0, 0, []
    for c in colours:  # in order: each colour after the previous one
        try:
            at = order.index(c, pos)
        except ValueError:
            continue
        found, pos = found + 1, at
        firsts.append(seen[at][0])
    return {
        "busy": busy,
        "produced": len(colours),
        "seen": found,
        "regions": regions[0],
        "checks": counter[0],
        "seconds": produced_at - started,
        "first_frames": firsts,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--gap", type=int, default=50, help="ms between two repaints")
    parser.add_argument("--busy", type=int, default=2, help="busy engine threads (phase 2)")
    parser.add_argument("--desktop", help="a running, logged-in rig desktop guest")
    args = parser.parse_args()
    announce("== P14 SPICE updates delivered while the engine is busy (bench/p14_spice_updates.py)")
    import libvirt

    from atp_core.protocol import VmSession
    from atp_core.protocol.spice import SpiceClient

    with bench_desktop(args.desktop) as vm:
        conn = libvirt.open(vm.uri)
        client = SpiceClient.for_domain(VmSession(conn, vm.name).ref).connect()
        try:
            tty, point = open_painter(vm)
            results = [
                phase(vm, client, args, tty, point, 0, 0),
                phase(vm, client, args, tty, point, 1, args.busy),
            ]
        finally:
            vm.shell(f"pkill -f {PAINTER} 2>/dev/null; true")
            client.close()
            conn.close()
    print(
        f"P14: {args.updates} terminal repaints {args.gap} ms apart on {vm.name}, "
        f"watched at pixel {point}"
    )
    print(
        f"{'engine':>16}  {'produced':>8}  {'seen':>5}  {'missing':>7}  {'regions':>7}  "
        f"{'checks':>6}  repaint loop"
    )
    status = 0
    for r in results:
        label = f"busy ({r['busy']} threads)" if r["busy"] else "idle"
        missing = r["produced"] - r["seen"]
        status |= 1 if missing else 0
        print(
            f"{label:>16}  {r['produced']:>8}  {r['seen']:>5}  {missing:>7}  {r['regions']:>7}  "
            f"{r['checks']:>6}  {r['seconds']:.1f} s"
        )
    gaps = [
        b - a
        for r in results
        for a, b in zip(r["first_frames"], r["first_frames"][1:], strict=False)
    ]
    if gaps:
        print(f"time between two delivered colours: median {1000 * statistics.median(gaps):.0f} ms")
    return status


if __name__ == "__main__":
    sys.exit(main())
