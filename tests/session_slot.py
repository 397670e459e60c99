"""A slot per test session, so two ``pytest`` sessions side by side on one machine keep apart.

Loaded first (``-p tests.session_slot`` in pyproject's addopts, before pytest-django reads the
settings). Unless ``ATP_RIG_PREFIX`` is set, the session claims the first free slot — an
``flock`` on ``$ATP_TEST_SLOT_DIR/slot-<n>.lock`` (default ``/tmp/atp-test-slots``), held for
the life of the process, so a crashed session frees its slot — and sets, for itself and every
process it starts, what is still unset:

========================  ===================  ==========================
variable                  slot 1 (as before)   slot n (2..4)
========================  ===================  ==========================
``ATP_RIG_PREFIX``        ``atp-test-``        ``atp-test<n>-``
``ATP_TEST_DB_SUFFIX``    (none)               ``_s<n>``
``REDIS_URL``             Redis db 14          db 14 - 2(n-1)
``ATP_TEST_REDIS_URL``    Redis db 15          db 15 - 2(n-1)
``ATP_TEST_AMQP_URL``     vhost ``/``          vhost ``atp-slot-<n>``
========================  ===================  ==========================

(``ATP_VDI_PREFIX`` follows ``ATP_RIG_PREFIX``.) A variable set by hand always wins. A session
that sets ``ATP_RIG_PREFIX`` is configured by hand: no slot is claimed and every variable it
leaves unset keeps its single-session default, exactly as before slots. Slots use Redis dbs
8-15: sessions configured by hand keep to dbs below 8.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SLOTS = 4
SLOT_DIR = "/tmp/atp-test-slots"
VARIABLES = (
    "ATP_RIG_PREFIX",
    "ATP_TEST_DB_SUFFIX",
    "REDIS_URL",
    "ATP_TEST_REDIS_URL",
    "ATP_TEST_AMQP_URL",
)
REDIS = "redis://127.0.0.1:6379"
AMQP = "amqp://guest:guest@127.0.0.1:5672"


class NoFreeSlot(RuntimeError):
    pass


def derived(number: int) -> dict[str, str]:
    """What slot ``number`` sets (slot 1 is the single-session default of before)."""
    n = number - 1
    return {
        "ATP_RIG_PREFIX": "atp-test-" if not n else f"atp-test{number}-",
        "ATP_TEST_DB_SUFFIX": "" if not n else f"_s{number}",
        "REDIS_URL": f"{REDIS}/{14 - 2 * n}",
        "ATP_TEST_REDIS_URL": f"{REDIS}/{15 - 2 * n}",
        "ATP_TEST_AMQP_URL": f"{AMQP}//" if not n else f"{AMQP}/atp-slot-{number}",
    }


@dataclass
class Slot:
    """A claimed slot (``number`` None: every variable was set by hand, nothing claimed)."""

    number: int | None
    values: dict[str, str]
    derived_names: list[str] = field(default_factory=list)
    _fd: int | None = None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file drops the flock
            self._fd = None


def claim(env: dict[str, str] | os._Environ, slot_dir: str | None = None) -> Slot:
    """Claim the first free slot unless ``env`` sets ``ATP_RIG_PREFIX`` (a session configured
    by hand); fill what ``env`` leaves unset with the slot's values."""
    if "ATP_RIG_PREFIX" in env:
        return Slot(None, {name: env.get(name, derived(1)[name]) for name in VARIABLES})
    where = Path(slot_dir or env.get("ATP_TEST_SLOT_DIR") or SLOT_DIR)
    where.mkdir(parents=True, exist_ok=True)
    for number in range(1, SLOTS + 1):
        fd = os.open(where / f"slot-{number}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        unset = [name for name in VARIABLES if name not in env]
        for name in unset:
            env[name] = derived(number)[name]
        return Slot(number, {name: env[name] for name in VARIABLES}, unset, fd)
    raise NoFreeSlot(
        f"all {SLOTS} test session slots in {where} are taken (sessions running): set "
        f"{', '.join(VARIABLES)} by hand (CONTRIBUTING.md, 'Parallel test sessions')"
    )


def ensure_amqp_vhost(url: str) -> None:
    """Create a slot's RabbitMQ vhost if it is missing (the broker's ``guest`` may use it)."""
    vhost = url.rsplit("/", 1)[-1]
    if not vhost.startswith("atp-slot-"):
        return
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_vhosts"], capture_output=True, text=True, timeout=60
    )
    if vhost in listed.stdout.split():
        return
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], capture_output=True, timeout=60)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        capture_output=True,
        timeout=60,
    )


SESSION = claim(os.environ)


def pytest_report_header(config) -> str:
    if SESSION.number is None:
        return "test session slot: none (ATP_RIG_PREFIX set by hand)"
    shown = ", ".join(f"{n}={SESSION.values[n]!r}" for n in SESSION.derived_names)
    return f"test session slot {SESSION.number}: {shown}"
