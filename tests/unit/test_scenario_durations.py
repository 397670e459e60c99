"""Durations of the scenario language: units in, float seconds out, short strings back."""

from __future__ import annotations

import pytest

from atp_core.orchestrator import ScenarioValidationError, load_scenario
from atp_core.orchestrator.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("2s", 2.0),
        ("1.5m", 90.0),
        ("1h", 3600.0),
        ("10m", 600.0),
        (3, 3.0),
        (0.25, 0.25),
        ("7", 7.0),
        (" 2 s ", 2.0),
        ("2 seconds", 2.0),
        ("3min", 180.0),
        (".5s", 0.5),
        ("0", 0.0),
    ],
)
def test_parse(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("3 days", "unknown duration unit 'days'"),
        ("abc", "expected a duration"),
        ("-1s", "expected a duration"),
        (-2, "cannot be negative"),
        (True, "expected a duration"),
        (None, "expected a duration"),
        ([1], "expected a duration"),
        ("1e9h", "expected a duration"),
        (10**12, "longer than a year"),
        (float("nan"), "expected a duration"),
    ],
)
def test_rejects(value, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "500ms"),
        (2, "2s"),
        (90, "1.5m"),
        (3600, "1h"),
        (600, "10m"),
        (45, "45s"),
        (1.25, "1.25s"),
        (0, "0s"),
        (5400, "1.5h"),
    ],
)
def test_format(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)


def test_durations_in_a_scenario_become_float_seconds():
    scenario = load_scenario(
        "name: d\ntimeout: 10m\ndefaults: {timeout: 30s, retry_delay: 500ms}\n"
        "steps:\n  - {type: wait, duration: 1.5m, timeout: 2m}\n"
        "  - {type: send_text, text: hi, interval: 20ms}\n"
    )
    assert scenario.timeout == 600.0
    assert scenario.defaults.timeout == 30.0
    assert scenario.defaults.retry_delay == 0.5
    wait, text = scenario.steps
    assert (wait.duration, wait.timeout) == (90.0, 120.0)
    assert text.interval == pytest.approx(0.02)


def test_default_run_timeout_is_one_hour_and_waits_have_no_default_bound():
    scenario = load_scenario("name: d\nsteps:\n  - {type: wait, duration: 2h}\n")
    assert scenario.timeout == 3600.0
    assert scenario.steps[0].timeout is None
    assert scenario.defaults.timeout is None


def test_bad_duration_in_a_scenario_names_line_and_units():
    with pytest.raises(ScenarioValidationError) as info:
        load_scenario("name: d\nsteps:\n  - type: wait\n    duration: 2 weeks\n")
    (issue,) = info.value.issues
    assert (issue.line, issue.column, issue.path) == (4, 15, "steps[0].duration")
    assert "allowed units: ms, s, m, h" in issue.message
