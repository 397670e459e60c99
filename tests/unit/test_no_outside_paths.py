"""The project stands on its own: no tracked file names an absolute filesystem path outside the
checkout, except the system's standard places and the guest's own (which are the same kind:
``/dev``, ``/proc``, ``/tmp``, ...).

A path counts when its first component is a filesystem root (``ROOTS``); URL paths of the
dashboard (``/runs/``, ``/api/...``) and of the VDI API (``/ocloud/v1``) do not start with one.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Top-level directories of a Linux filesystem (FHS) plus the usual places a checkout, a home or a
# shared area live on build machines. A path starting with one of these is a filesystem path.
ROOTS = frozenset(
    [
        "bin",
        "boot",
        "dev",
        "etc",
        "home",
        "lib",
        "lib32",
        "lib64",
        "libx32",
        "media",
        "mnt",
        "opt",
        "proc",
        "root",
        "run",
        "sbin",
        "srv",
        "sys",
        "tmp",
        "usr",
        "var",
        "work",
        "workspace",
        "shared",
        "scratch",
        "data",
        "nix",
        "snap",
        "old_root",
        "farm",
        "Users",
        "Volumes",
    ]
)

# What a tracked file may name. Each entry is a path prefix; a path matches when it equals the
# entry or continues it with "/" (entries ending in "*" match any continuation).
ALLOWED = (
    # the system's standard places (commands, configuration, devices, kernel, runtime state)
    "/bin",
    "/sbin",
    "/usr",
    "/lib",
    "/lib64",
    "/boot",  # guest/build.sh takes the host's kernel
    "/etc",
    "/dev",
    "/proc",
    "/sys",
    "/run",
    "/tmp",
    # daemons' standard state and logs (libvirtd, redis, the guest's qemu-ga)
    "/var/lib",
    "/var/log",
    "/var/cache",
    # the project's own scratch area (guest images, builds: guest/build.sh, guest/domain.py)
    "/var/tmp/atp*",
    # the production layout docs/deployment.md recommends
    "/opt/atp",
    "/srv/atp-media",
)
# URL paths of the dashboard that happen to share a filesystem root's name.
ALLOWED_URLS = {"/media/"}

# Files that are not the project's own words: byte-for-byte third-party copies and
# bench/results/: recorded benchmark outputs (tracebacks name the machine's paths as they were).
SKIP_PREFIXES = ("tests/fixtures/vendor/", "static/vendor/", "bench/results/")
# Files whose leading "/" means "the repository's root", not the filesystem's.
REPO_ANCHORED = {".gitignore", ".dockerignore"}

_ROOT_ALT = "|".join(sorted(ROOTS))
# A path starts at a "/" not preceded by a word character or a path-ish one (so "a/b/usr" and
# "https://host/usr" are not paths, "${DIR}/etc" and "<repo>/var" are relative to something)
# and is followed by a filesystem root's name, ended by "/" or a delimiter.
PATH_RE = re.compile(
    r"(?<![\w.:/~>}\)\]$-])/(?:" + _ROOT_ALT + r")(?=[/\s\"'`),:;\]>}|]|$)[^\s\"'`),;\]>|]*"
)
QUOTED_VAR_RE = re.compile(r"[\"']\$\{?\w+\}?[\"']")
HOME_RE = re.compile(r"(?<![\w./-])~/[\w./-]+")


def _allowed(path: str) -> bool:
    if path in ALLOWED_URLS:
        return True
    for entry in ALLOWED:
        if entry.endswith("*"):
            if path.startswith(entry[:-1]):
                return True
        elif path == entry or path.startswith(entry + "/"):
            return True
    return False


def offenders(text: str) -> list[str]:
    """The outside paths one text names."""
    text = text.replace("file://", "")  # file:///x names /x
    text = QUOTED_VAR_RE.sub("VAR", text)  # "$ROOT"/var/log is inside $ROOT
    found = [m.group(0) for m in PATH_RE.finditer(text)]
    found = [p.rstrip(".") for p in found if not _allowed(p.rstrip("."))]
    return found + [m.group(0) for m in HOME_RE.finditer(text)]


def tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True
    ).stdout
    return [f for f in out.decode().split("\0") if f]


def test_the_detector_finds_outside_paths_and_leaves_urls_and_system_paths():
    outside = "/" + "work/shared/vendor/x.json"  # built, so this file does not name it
    home = "/" + "root/.cache/thing"
    assert offenders(f'VENDOR = Path("{outside}")') == [outside]
    assert offenders(f"see {home}, then") == [home]
    assert offenders(f"url file://{outside}") == [outside]
    assert offenders("cfg in ~" + "/.config/atp") == ["~" + "/.config/atp"]
    assert offenders("/" + "var/db.sqlite3") == ["/" + "var/db.sqlite3"]
    assert offenders('"$X/' + 'home/me"') == []  # relative to $X, like "${X}"/home
    assert offenders('cp a "/' + 'home/me"') == ["/" + "home/me"]
    assert offenders("/" + "opt/other/bin") == ["/" + "opt/other/bin"]
    harmless = (
        'GET "/runs/12/report" /api/runs /ocloud/v1/domain https://example.com/work/x '
        "sqlite:///<repo>/var/db.sqlite3 ${ATP_GUEST_DIR}/vmlinuz $ROOT/etc/inittab a/home/b "
        "/dev/null /usr/bin/chromium /tmp/keys.log /var/tmp/atp/guest /var/tmp/atpguest.XXXXXX "
        "/proc/self/mountinfo /etc/libvirt/qemu.conf MEDIA_URL = '/media/' /run/libvirt "
        "/opt/atp/.venv/bin/python "
        '"$ROOT"/var/{log,lib/xkb} "${ROOT}"/home'
    )
    assert offenders(harmless) == []


def test_no_tracked_file_names_a_path_outside_the_checkout():
    problems = []
    for name in tracked_files():
        if name.startswith(SKIP_PREFIXES) or Path(name).name in REPO_ANCHORED:
            continue
        path = REPO / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:  # binary
            continue
        for lineno, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            problems += [f"{name}:{lineno}: {p}" for p in offenders(line)]
    assert problems == [], "paths outside the checkout:\n" + "\n".join(problems)
