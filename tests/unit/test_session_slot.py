"""Two test sessions side by side keep apart without hand-set variables (tests/session_slot.py):
each claims its own slot, so rig prefix, test database, Redis dbs and AMQP vhost all differ;
a session that sets ATP_RIG_PREFIX is left exactly as before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.session_slot import VARIABLES, claim, derived
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_two_claims_at_once_get_different_slots_and_a_freed_slot_is_reused(tmp_path):
    first_env: dict[str, str] = {}
    second_env: dict[str, str] = {}
    first = claim(first_env, str(tmp_path))
    second = claim(second_env, str(tmp_path))
    try:
        assert (first.number, second.number) == (1, 2)
        for name in VARIABLES:
            assert first_env[name] != second_env[name], name
        assert first_env == derived(1) and second_env == derived(2)
        # slot 1 is the single-session default of before
        assert first_env["ATP_RIG_PREFIX"] == "atp-test-" and first_env["ATP_TEST_DB_SUFFIX"] == ""
        first.release()
        assert claim({}, str(tmp_path)).number == 1, "a released slot is free again"
    finally:
        first.release()
        second.release()


def test_a_variable_set_by_hand_wins_over_the_slot(tmp_path):
    env = {"REDIS_URL": "redis://127.0.0.1:6379/5"}
    slot = claim(env, str(tmp_path))
    try:
        assert slot.number == 1
        assert env["REDIS_URL"] == "redis://127.0.0.1:6379/5"
        assert env["ATP_TEST_REDIS_URL"] == derived(1)["ATP_TEST_REDIS_URL"]
        assert "REDIS_URL" not in slot.derived_names
    finally:
        slot.release()


def test_a_session_configured_by_hand_claims_nothing_and_changes_nothing(tmp_path):
    env = {"ATP_RIG_PREFIX": "atp-h9-", "REDIS_URL": "redis://127.0.0.1:6379/3"}
    slot = claim(env, str(tmp_path))
    assert slot.number is None
    assert env == {"ATP_RIG_PREFIX": "atp-h9-", "REDIS_URL": "redis://127.0.0.1:6379/3"}
    assert list(tmp_path.iterdir()) == [], "no lock taken"


def test_all_slots_taken_is_a_clear_error(tmp_path):
    import pytest

    from tests.session_slot import SLOTS, NoFreeSlot

    held = [claim({}, str(tmp_path)) for _ in range(SLOTS)]
    try:
        with pytest.raises(NoFreeSlot, match="set ATP_RIG_PREFIX"):
            claim({}, str(tmp_path))
    finally:
        for slot in held:
            slot.release()


PROBE = textwrap.dedent(
    """
    import json, os, pathlib, time

    from django.conf import settings


    def test_probe():
        out = pathlib.Path(os.environ["PROBE_DIR"])
        seen = {name: os.environ.get(name) for name in %r}
        seen["settings.REDIS_URL"] = settings.REDIS_URL
        seen["test db"] = settings.DATABASES["default"]["TEST"]["NAME"]
        (out / f"{os.getpid()}.json").write_text(json.dumps(seen))
        deadline = time.monotonic() + 120
        while not (out / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # holds the session (and its slot) until both sessions reported
    """
)


def test_two_pytest_sessions_side_by_side_are_isolated(tmp_path):
    """Two real pytest sessions at once, with none of the variables set: every value differs,
    down to the Redis db and the test database the Django settings use."""
    probe_dir = tmp_path / "out"
    probe_dir.mkdir()
    tests_dir = tmp_path / "probe"
    tests_dir.mkdir()
    (tests_dir / "test_probe.py").write_text(PROBE % (VARIABLES,))
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES and k != "DATABASE_URL"}
    env |= {"ATP_TEST_SLOT_DIR": str(tmp_path / "slots"), "PROBE_DIR": str(probe_dir)}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    argv += ["-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT), str(tests_dir)]
    sessions = [
        subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    try:
        wait_for(lambda: len(list(probe_dir.glob("*.json"))) == 2, 120, "both sessions' probes")
    finally:
        (probe_dir / "go").touch()
        outputs = [p.communicate(timeout=120)[0] for p in sessions]
    assert [p.returncode for p in sessions] == [0, 0], outputs
    first, second = (json.loads(f.read_text()) for f in sorted(probe_dir.glob("*.json")))
    for name in first:
        assert first[name] != second[name], (name, first[name])
    assert {first["ATP_RIG_PREFIX"], second["ATP_RIG_PREFIX"]} == {"atp-test-", "atp-test2-"}
    assert {first["settings.REDIS_URL"], second["settings.REDIS_URL"]} == {
        derived(1)["REDIS_URL"],
        derived(2)["REDIS_URL"],
    }
