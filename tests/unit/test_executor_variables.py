"""Variables and captures through the executor: captures of commands (stdout without the
trailing newline, fields), set inside loops, loop.index/item and `as`, run variables override
the scenario's, ${env.X} only when allowed, built-ins."""

from tests.unit.fake_vm import run_yaml


def test_captures_set_loops_and_builtins():
    report, _, rig = run_yaml(
        """
name: vars
variables: {who: scenario, items: [x, y]}
steps:
  - type: exec_command
    command: echo hello
    capture: out
  - type: exec_command
    command: echo ${out}/${out.exit_code}/${out.stdout}
  - type: loop
    for_each: ${items}
    as: letter
    steps:
      - type: set
        values: {last: "${loop.index}-${letter}", n: "${loop.index}"}
  - type: exec_command
    command: echo ${last} ${who} ${vm.name} ${run.id} ${host.name} ${env.HOME_X}
  - type: file_write
    path: /f
    content: typed ${n}
  - type: file_read
    path: /f
    capture: content
  - type: exec_command
    command: echo ${content}
""",
        variables={"who": "operator"},
        run_id="run-7",
        env_allowed={"HOME_X": "/tmp/home-x"},
    )
    assert report.result == "passed", [(s.id, s.error) for s in report.targets[0].steps]
    ran = [c[1] for c in rig.vm("a").calls if c[0] == "exec"]
    assert ran[1] == "echo hello/0/hello\n"
    assert ran[-2] == "echo 1-y operator a run-7 local /tmp/home-x"
    assert ran[-1] == "echo typed 1"


def test_env_not_allowed_is_an_error():
    report, _, _ = run_yaml(
        "name: e\nsteps:\n  - type: exec_command\n    command: echo ${env.SECRET}\n",
        env_allowed={"OTHER": "1"},
    )
    step = report.targets[0].steps[0]
    assert step.status == "error" and "SECRET" in step.error and "OTHER" in step.error


def test_whole_value_keeps_its_type_in_for_each():
    report, _, rig = run_yaml(
        """
name: t
variables: {n: [1, 2, 3]}
steps:
  - type: loop
    for_each: ${n}
    steps:
      - type: exec_command
        command: echo ${loop.item}
"""
    )
    assert [s.iteration for s in report.targets[0].steps if s.id == "1.1"] == [0, 1, 2]
    assert [c[1] for c in rig.vm("a").calls] == ["echo 1", "echo 2", "echo 3"]


def test_vm_uuid_is_looked_up_when_used():
    report, _, rig = run_yaml(
        """
name: u
steps:
  - type: file_write
    path: /uuid
    content: ${vm.uuid}
  - type: exec_command
    command: echo ${vm.uuid} ${target.name}
"""
    )
    assert report.result == "passed"
    assert rig.vm("a").files["/uuid"] == b"uuid-a"
    assert [c[1] for c in rig.vm("a").calls if c[0] == "exec"] == ["echo uuid-a local/a"]
