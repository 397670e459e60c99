"""A capacity run's desks and inputs before anything boots: the bounds of what a run may ask
(desks, keys, threshold) with errors that say what is allowed; a desk's XML is the template's
with a new name, no UUID or MAC, its own serial log and a fresh SPICE ticket, and a template
with a writable disk is refused; the readiness and workload scenarios load and render (no
``${`` the engine would read as a variable); a cancel stops the controller before the next
desk starts; the result's JSON carries each step's ratio and never a NaN."""

import json
import xml.etree.ElementTree as ET

import pytest

from atp_core.errors import InvalidInput
from atp_core.orchestrator.capacity import check_capacity_inputs, run_capacity
from atp_core.orchestrator.capacity_desks import READY, desk_xml, typing_scenario
from atp_core.orchestrator.loader import load_scenario
from atp_core.orchestrator.variables import Variables
from guest.domain import render_desktop_xml


def test_inputs_are_bounded_with_clear_errors():
    assert check_capacity_inputs("4", 10, "15%") == (4, 10, 0.15)
    assert check_capacity_inputs(1, "40", 1) == (1, 40, 1.0)
    for args, message in (
        ((0, 5), "max_desks: 0 is out of range (1-12)"),
        ((13, 5), "max_desks: 13 is out of range (1-12)"),
        (("x", 5), "max_desks: 'x' is not a whole number (1-12)"),
        ((2, 0), "keys: 0 is out of range (1-40)"),
        ((2, 2.5), "keys: 2.5 is not a whole number (1-40)"),
        ((2, 2, 0), "threshold: 0 is out of range"),
        ((2, 2, "150%"), "threshold: '150%' is out of range"),
        ((2, 2, "much"), "threshold: 'much' is not a number"),
    ):
        with pytest.raises(
            InvalidInput, match="^" + message.replace("(", r"\(").replace(")", r"\)")
        ):
            check_capacity_inputs(*args)


def test_desk_xml_is_a_fresh_copy_of_the_template():
    template = render_desktop_xml("tpl", ticket="old")
    template = template.replace("<name>tpl</name>", "<name>tpl</name><uuid>1-2-3</uuid>")
    root = ET.fromstring(desk_xml(template, "tpl-cap7-2", "newticket"))
    assert root.findtext("name") == "tpl-cap7-2" and root.find("uuid") is None
    assert root.find("devices/graphics").get("passwd") == "newticket"
    assert root.find("devices/serial/log").get("file").endswith("/tpl-cap7-2-serial.log")
    with_nic = template.replace(
        "</devices>",
        "<interface type='user'><mac address='52:54:00:00:00:01'/></interface></devices>",
    )
    assert ET.fromstring(desk_xml(with_nic, "d", "t")).find("devices/interface/mac") is None
    read_only = template.replace(
        "</devices>",
        "<disk type='file' device='disk'><source file='/x.img'/><target dev='vda'/>"
        "<readonly/></disk></devices>",
    )
    desk_xml(read_only, "d", "t")
    with pytest.raises(InvalidInput, match="template tpl: disk vda is writable"):
        desk_xml(read_only.replace("<readonly/>", ""), "d", "t")


def test_the_scenarios_load_and_render():
    ready = load_scenario(READY)
    idle = ready.steps[-1].command
    assert "${" not in idle and Variables().render_str(idle) == idle
    assert "/run/atp-greeter" in READY
    work = load_scenario(typing_scenario(3))
    keys = [s.key for s in work.steps if s.type == "send_key"]
    assert keys == ["a", "backspace", "a"] and work.display == "spice"


def test_a_cancel_stops_before_the_next_desk():
    started = []
    asks = iter([None, None, "cancelled"])
    result = run_capacity(
        lambda n: started.append(n) or n,
        lambda desk, n: [0.1] * 3,
        host="h",
        max_desks=5,
        should_stop=lambda: next(asks),
    )
    assert started == [1, 2] and result.reason == "cancelled" and result.capacity == 2


def test_the_json_carries_ratios_and_no_nan():
    result = run_capacity(
        lambda n: n, lambda desk, n: [] if n == 2 else [0.1, 0.2], host="h", max_desks=3
    )
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert [(s["desks"], s["p95"], s["ratio"]) for s in data["steps"]] == [
        (1, 0.195, 1.0),
        (2, None, None),
    ]
    assert data["summary"] == "capacity: 1 desks on host h (no latency measured at 2 desks)"
