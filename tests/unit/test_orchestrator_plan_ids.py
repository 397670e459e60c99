"""Plan ids are structural paths and stable between loads of the same scenario."""

from atp_core.orchestrator import load_scenario, plan_steps

TEXT = """
name: plan
steps:
  - type: wait
    duration: 0
  - type: group
    name: g
    steps:
      - type: loop
        count: 2
        steps:
          - type: wait
            duration: 0
    finally:
      - type: exec_command
        command: echo x
  - type: parallel
    for_each: [1]
    steps:
      - type: wait
        duration: 0
finally:
  - type: guest_ping
"""


def test_ids_depth_phase_parent():
    plan = plan_steps(load_scenario(TEXT))
    rows = [(p.id, p.type, p.depth, p.phase, p.parent) for p in plan]
    assert rows == [
        ("1", "wait", 0, "main", None),
        ("2", "group", 0, "main", None),
        ("2.1", "loop", 1, "main", "2"),
        ("2.1.1", "wait", 2, "main", "2.1"),
        ("2.F1", "exec_command", 1, "finally", "2"),
        ("3", "parallel", 0, "main", None),
        ("3.1", "wait", 1, "main", "3"),
        ("F1", "guest_ping", 0, "finally", None),
    ]
    assert plan[1].name == "g"
    assert [p.to_dict() for p in plan] == [p.to_dict() for p in plan_steps(load_scenario(TEXT))]
