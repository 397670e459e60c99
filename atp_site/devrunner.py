"""`make demo`: everything on one machine, in the foreground, stopped with Ctrl-C.

Migrates the SQLite database, creates (once) an admin user whose password is printed, registers
the local libvirt host, boots two demo VMs from the test guest, starts the VDI simulator (backed
by the local libvirt), a Celery worker and the ASGI web server, then prints the URL.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atp_site.settings")
# The demo's worker may use the key generated into var/secret_key (atp_site.celery).
os.environ.setdefault("ATP_DEMO", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

DEMO_VMS = ["atp-demo-1", "atp-demo-2"]
# The graphical guest (Xorg on QXL, xdm login, SPICE): docs/desktop-guest.md
DEMO_DESKTOP = "atp-demo-desktop"
PORT = int(os.environ.get("ATP_PORT", "8000"))
BIND = os.environ.get("ATP_BIND", "127.0.0.1")
VDISIM_PORT = int(os.environ.get("ATP_VDISIM_PORT", "8088"))
PY = sys.executable


def say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


def admin_credentials() -> tuple[str, str]:
    """Create the admin user once; its password lives in var/admin_password (mode 600)."""
    pw_file = Path(settings.VAR_DIR) / "admin_password"
    user_model = get_user_model()
    if pw_file.exists() and user_model.objects.filter(username="admin").exists():
        return "admin", pw_file.read_text().strip()
    password = secrets.token_urlsafe(12)
    user, _ = user_model.objects.get_or_create(username="admin")
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    pw_file.write_text(password)
    pw_file.chmod(0o600)
    return "admin", password


def boot_demo_vms() -> None:
    import libvirt

    from guest.domain import define_desktop, define_guest

    libvirt.registerErrorHandler(lambda _c, _e: None, None)
    conn = libvirt.open(settings.ATP_LOCAL_LIBVIRT_URI)
    for name in [*DEMO_VMS, DEMO_DESKTOP]:
        try:
            dom = conn.lookupByName(name)
        except libvirt.libvirtError:
            if name == DEMO_DESKTOP:
                # the SPICE ticket is set through libvirt; the display client reads it back
                dom = define_desktop(conn, name, ticket=secrets.token_hex(8))
            else:
                dom = define_guest(conn, name)
        if not dom.isActive():
            dom.create()
            say(f"started VM {name}")
        else:
            say(f"VM {name} already running")
    conn.close()


def start(name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
    log_dir = Path(settings.VAR_DIR) / "log"
    log_dir.mkdir(exist_ok=True)
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's life
    say(f"starting {name} (log: var/log/{name}.log)")
    return subprocess.Popen(
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def wait_http(url: str, timeout: float = 60) -> bool:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except Exception:
            time.sleep(0.3)
    return False


def main() -> int:
    call_command("migrate", interactive=False, verbosity=0)
    say("database migrated")
    user, password = admin_credentials()
    from hosts.services import ensure_local_host

    local = ensure_local_host()
    load_demo_library(user, local)
    boot_demo_vms()
    from hosts.services import sync_host

    synced = sync_host(local, thumbnails=False)
    say(f"inventory: {synced['vms']} VMs on host {local.name} ({synced.get('error') or 'ok'})")
    children: list[subprocess.Popen] = []
    children.append(start("vdisim", vdisim_argv()))
    children.append(
        start(
            "worker",
            [
                PY,
                "-m",
                "celery",
                "-A",
                "atp_site",
                "worker",
                "-l",
                "info",
                "-c",
                "2",
                "-Q",
                "atp,host.local",
                "--without-gossip",
                "--without-mingle",
            ],
        )
    )
    children.append(start("beat", [PY, "-m", "celery", "-A", "atp_site", "beat", "-l", "info"]))
    children.append(
        start("web", [PY, "-m", "daphne", "-b", BIND, "-p", str(PORT), "atp_site.asgi:application"])
    )
    url = f"http://{'127.0.0.1' if BIND in ('0.0.0.0', '::') else BIND}:{PORT}/"
    if not wait_http(url + "healthz"):
        say("the web server did not come up; see var/log/web.log")
    print(
        f"\n  OCloudView ATP is running at {url}\n"
        f"  log in as: {user} / {password}\n"
        f"  demo VMs: {', '.join(DEMO_VMS)} and the desktop {DEMO_DESKTOP} (login atp / atp)"
        " on host 'local'\n"
        + f"  VDI simulator: http://127.0.0.1:{VDISIM_PORT}/\n"
        + "  Ctrl-C stops everything (demo VMs keep running; rig/stop-daemons.sh removes them)\n",
        flush=True,
    )

    stop = {"now": False}
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    while not stop["now"]:
        for child in children:
            if child.poll() is not None:
                say(f"a process exited ({child.args[2:4]}, code {child.returncode}); stopping")
                stop["now"] = True
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    for child in children:
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
    say("stopped")
    return 0


def load_demo_library(username: str, local_host=None) -> None:
    """The examples in the scenario library and, for the VDI ones, the simulator's endpoint.

    The simulator keeps its VMs on the local libvirt, so the endpoint is verified against the
    ``local_host``: without it "verify" would look for a libvirtd on each platform host's IP."""
    from atp_core.errors import InvalidInput
    from hosts.models import VdiEndpoint
    from hosts.vdi import add_endpoint
    from scenarios.services import load_examples

    author = get_user_model().objects.get(username=username)
    loaded = load_examples(Path(settings.BASE_DIR) / "examples", author)
    say(f"{len(loaded['scenarios'])} example scenarios and {len(loaded['references'])} references")
    for error in loaded["errors"]:
        say(f"example not loaded: {error}")
    endpoint = VdiEndpoint.objects.filter(name="demo-vdisim").first()
    if endpoint is None:
        try:
            add_endpoint(
                "demo-vdisim",
                f"http://127.0.0.1:{VDISIM_PORT}",
                "admin",
                "11111111",
                name_prefix="atp-vdi-",
                libvirt_host=local_host,
            )
        except InvalidInput as exc:
            say(f"VDI endpoint not added: {exc}")
    elif endpoint.libvirt_host_id is None and local_host is not None:
        endpoint.libvirt_host = local_host  # a demo database from before this was set
        endpoint.save(update_fields=["libvirt_host"])


def vdisim_argv() -> list[str]:
    """The VDI simulator of the demo, on the local libvirtd."""
    return [
        PY,
        "-m",
        "vdisim",
        "--port",
        str(VDISIM_PORT),
        "--backend",
        "libvirt",
        "--libvirt-uri",
        settings.ATP_LOCAL_LIBVIRT_URI,
    ]


if __name__ == "__main__":
    sys.exit(main())
