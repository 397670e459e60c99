"""A step's displayed name renders its ``${...}``: inside a loop each iteration is named with
its own ``${loop.index}`` (0-based, as the row label), in the events and in the report. What
cannot be rendered for a name (an unknown variable, a secret) stays as written."""

from tests.unit.fake_vm import run_yaml

SCENARIO = """
name: names
variables: {who: olga}
steps:
  - type: loop
    name: repeat for ${who}
    count: 3
    steps:
      - type: send_text
        name: type item ${loop.index}
        text: item ${loop.index}
      - type: send_text
        text: row ${loop.index}
  - type: exec_command
    name: greet ${who} with ${nobody} and ${secret.pw}
    command: echo hi
"""


def test_names_render_their_variables_per_iteration():
    report, events, _ = run_yaml(SCENARIO, secrets={"pw": "hunter2-secret"})
    steps = report.targets[0].steps
    named = [(s.id, s.iteration, s.name) for s in steps]
    assert ("1", None, "repeat for olga") in named
    for i in range(3):
        assert ("1.1", i, f"type item {i}") in named
        assert ("1.2", i, f"send_text 'row {i}'") in named
    assert ("2", None, "greet olga with ${nobody} and ${secret.pw}") in named
    started = [
        (e.step_id, e.data["iteration"], e.data["name"]) for e in events if e.type == "step_started"
    ]
    assert [x for x in started if x[0] == "1.1"] == [("1.1", i, f"type item {i}") for i in range(3)]
    assert not [e for e in events if "hunter2-secret" in str(e.to_dict())]
