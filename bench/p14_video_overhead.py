"""Overhead of recording the experience: the same desktop scenario (pointer, typing, a menu
opened and closed, waits) with and without the video, interleaved, on one logged-in desktop
guest over SPICE. Prints each run's wall time, the median ratio with/without (goal <= 1.10) and
the video's size per minute. Latency is measured in both (it is part of every input step).

Run: ``.venv/bin/python bench/p14_video_overhead.py [--rounds 3]`` (boots and removes its own
desktop guest, named with ``ATP_RIG_PREFIX``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measured import announce  # noqa: E402
from rig_guest import ROOT  # noqa: E402

sys.path.insert(0, str(ROOT))

from atp_core.orchestrator import Target, load_scenario, run_scenario  # noqa: E402
from tests.vm_pool import LIBVIRT_URI, DesktopVm  # noqa: E402

RIG_PREFIX = os.environ.get("ATP_RIG_PREFIX", "atp-bench-")

SCENARIO = """
name: experience-overhead
display: spice
steps:
  - type: mouse_move
    x: 200
    y: 110
  - type: wait
    duration: 1s
  - type: send_key
    key: ctrl+u
  - type: send_text
    text: "the quick brown fox jumps over the lazy dog"
  - type: send_key
    key: ctrl+u
  - type: mouse_click
    x: 700
    y: 600
  - type: wait
    duration: 1s
  - type: send_key
    key: esc
  - type: mouse_click
    x: 900
    y: 700
  - type: wait
    duration: 2s
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    announce("P14 experience recording overhead")
    conn = libvirt.open(LIBVIRT_URI)
    vm = DesktopVm(f"{RIG_PREFIX}bench-desktop", LIBVIRT_URI, conn)
    scenario = load_scenario(SCENARIO)
    walls: dict[bool, list[float]] = {False: [], True: []}
    sizes = []
    try:
        vm.log_in()
        for _ in range(args.rounds):
            for video in (False, True):
                with tempfile.TemporaryDirectory() as folder:
                    started = time.monotonic()
                    report = run_scenario(
                        scenario, [Target("desk", vm.uri, vm.name)], artifact_dir=folder,
                        video=video,
                    )  # fmt: skip
                    wall = time.monotonic() - started
                target = report.targets[0]
                if target.result != "passed":
                    print("run failed:", [(s.id, s.status, s.error) for s in target.steps])
                    return 1
                walls[video].append(wall)
                if video:
                    sizes.append(target.video)
                latency = report.to_dict()["latency"]
                print(f"video={video!s:5} wall {wall:.2f} s  latency {latency}")
    finally:
        vm.remove()
        conn.close()
    off, on = statistics.median(walls[False]), statistics.median(walls[True])
    print(f"median wall without video {off:.2f} s, with {on:.2f} s: ratio {on / off:.3f}")
    for v in sizes:
        print(f"video: {v['seconds']} s, {v['frames']} frames, {v['bytes']} bytes, "
              f"{v['bytes_per_minute']} bytes/min")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
