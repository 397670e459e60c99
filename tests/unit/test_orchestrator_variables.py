"""Variable rendering: paths, indexes, typed whole values, escapes, clear errors."""

import pytest

from atp_core.orchestrator.variables import CommandOutput, VariableError, Variables


@pytest.fixture
def v():
    return Variables(
        {
            "a": {"b": [{"id": 3}, {"id": "x"}], "n": None},
            "n": 5,
            "f": 2.5,
            "flag": True,
            "out": CommandOutput(stdout="line\n", stderr="", exit_code=0),
        },
        env={"ALLOWED": "yes"},
    )


def test_paths_and_types(v):
    assert v.render("${a.b[0].id}") == 3
    assert v.render("${a.b[-1].id}") == "x"
    assert v.render("${a['b'][1]['id']}") == "x"
    assert v.render("${a.b.length}") == 2
    assert v.render("${a.b}") == [{"id": 3}, {"id": "x"}]
    assert v.render("n=${n} f=${f} ${flag} [${a.n}]") == "n=5 f=2.5 true []"
    assert v.render("${out}") == "line" and v.render("<${out}>") == "<line>"
    assert v.render("${out.exit_code}") == 0
    assert v.render("$${n} and ${n}") == "${n} and 5"
    assert v.render({"k": ["${n}", {"d": "${env.ALLOWED}"}]}) == {"k": [5, {"d": "yes"}]}


def test_scopes(v):
    child = v.child({"n": 6, "loop": {"index": 1}})
    assert child.render("${n} ${loop.index} ${f}") == "6 1 2.5"
    assert v.render("${n}") == 5


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("${nope}", "unknown variable ${nope} (defined: a, f, flag, n, out)"),
        ("${a.c}", "no field 'c' (fields: b, n)"),
        ("${a.b[5]}", "index 5 out of range (length 2)"),
        ("${a.b.id}", "a list has no field 'id'"),
        ("${env.HOME}", "'HOME' is not allowed by the operator (allowed: ALLOWED)"),
        ("${a..b}", "unexpected '.'"),
        ("${}", "empty variable expression"),
        ("${a.}", "ends with '.'"),
    ],
)
def test_errors_name_the_problem(v, text, needle):
    with pytest.raises(VariableError) as exc:
        v.render(text)
    assert needle in str(exc.value)
