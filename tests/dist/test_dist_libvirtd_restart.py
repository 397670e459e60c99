"""libvirtd restarted mid-run, stopped (SIGTERM) or killed (SIGKILL): the run goes on through
the restart and passes, with every event stored.

The machine's libvirtd serves every engineer's guests, so this test restarts a private one: a
libvirtd in its own mount namespace with its own /run, /var/lib, /etc and /var/log of libvirt
(socket under a temporary directory), running one test guest. Its qemu process outlives the
daemon, exactly as with the system daemon.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from runs.models import Run
from runs.services import launch_run
from tests.conftest import RIG_PREFIX
from tests.dist.conftest import assert_full_event_sequence, make_scenario, wait_for
from tests.prereq import require

pytestmark = [pytest.mark.rig, pytest.mark.redis]

STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: echo before}
  - {type: wait, duration: 6s}
  - {type: exec_command, command: echo after-restart}
  - type: guest_ping
"""

START = """
mount --bind {d}/run /run/libvirt &&
mount --bind {d}/lib /var/lib/libvirt &&
mount --bind {d}/etc /etc/libvirt &&
mount --bind {d}/log /var/log/libvirt &&
mount --bind {d}/cache /var/cache/libvirt &&
(virtlogd -d --pid-file /run/libvirt/hd-virtlogd.pid || true) &&
exec libvirtd --pid-file /run/libvirt/hd-libvirtd.pid
"""


class PrivateLibvirtd:
    def __init__(self):
        require(os.geteuid() == 0, "root (a private libvirtd in a mount namespace)")
        require(shutil.which("libvirtd") and shutil.which("unshare"), "libvirtd and unshare")
        self.dir = Path(tempfile.mkdtemp(prefix="atp-hd-libvirt-"))
        for sub in ("run", "lib/qemu", "etc", "log/qemu", "cache/qemu"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        for name in ("libvirtd.conf", "libvirt.conf", "qemu.conf", "virtlogd.conf"):
            if Path("/etc/libvirt", name).exists():
                shutil.copy(Path("/etc/libvirt", name), self.dir / "etc" / name)
        with open(self.dir / "etc" / "qemu.conf", "a") as conf:
            conf.write("\nremember_owner = 0\ndynamic_ownership = 0\n")  # shared guest files
        self.uri = f"qemu+unix:///system?socket={self.dir}/run/libvirt-sock"
        self.proc = None

    def start(self):
        log = open(self.dir / "libvirtd.out", "ab")  # noqa: SIM115 - the daemon's output
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "bash", "-c", START.format(d=self.dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        import libvirt

        def answers():
            try:
                libvirt.open(self.uri).close()
                return True
            except libvirt.libvirtError:
                return False

        wait_for(answers, 30, "the private libvirtd")

    def stop(self, sig: int = signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)

    def close(self):
        self.stop()
        pid_file = self.dir / "run" / "hd-virtlogd.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            except (ValueError, ProcessLookupError):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def private_guest(libvirt_uri):
    import libvirt

    from guest.domain import define_guest
    from tests.vm_pool import guest_built

    require(guest_built(), "the test guest (run guest/build.sh)")
    daemon = PrivateLibvirtd()
    daemon.start()
    name = f"{RIG_PREFIX}priv-0"
    conn = libvirt.open(daemon.uri)
    dom = define_guest(conn, name)
    dom.create()

    def agent_up():
        import libvirt_qemu

        try:
            libvirt_qemu.qemuAgentCommand(conn.lookupByName(name), '{"execute":"guest-ping"}', 5, 0)
            return True
        except libvirt.libvirtError:
            return False

    wait_for(agent_up, 180, "the private guest's agent", interval=2)
    conn.close()
    yield daemon, name
    try:
        conn = libvirt.open(daemon.uri)
        dom = conn.lookupByName(name)
        if dom.isActive():
            dom.destroy()
        dom.undefine()
        conn.close()
    finally:
        daemon.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_libvirtd_restart_mid_run_the_run_passes(dist_processes, private_guest, sig):
    from hosts.models import Host, VirtualMachine

    daemon, vm_name = private_guest
    host = Host.objects.create(name="hd-p", uri=daemon.uri, slots=1)
    VirtualMachine.objects.create(host=host, name=vm_name, state="running")
    dist_processes.worker("hd-wp", "host.hd-p")
    rev = make_scenario("libvirtd-restart", STEPS, timeout="3m")
    run = launch_run(rev, [{"vm": vm_name, "host": "hd-p"}], {}, None)

    wait_for(
        lambda: Run.objects.get(pk=run.pk).steps.filter(type="wait", status="running").exists(),
        120,
        "the wait step",
    )
    daemon.stop(sig)
    time.sleep(2)  # the outage: the daemon stays down for 2 s of the 6 s wait step
    daemon.start()

    wait_for(lambda: Run.objects.get(pk=run.pk).state == "finished", 150, "the run to end")
    run.refresh_from_db()
    assert run.result == "passed", (run.result, run.reason)
    assert list(run.steps.order_by("ordinal").values_list("status", flat=True)) == ["passed"] * 5
    assert_full_event_sequence(run.pk)
