"""The API fuzzer in the suite (issue 11): schemathesis, driven by the project's own OpenAPI
schema (/api/schema/), against the live daphne server, as an operator and as a viewer.

Every operation is exercised (examples, coverage, fuzzing and the stateful links between
operations) with a fixed seed and a bounded number of examples, on real rows created first (a
host on libvirt's test driver with VMs, a VDI endpoint, a scenario with revisions, a reference
image, runs), so requests get past their lookups. Checks: no 5xx, and every response conforms
to the schema. The report of each role is in test-artifacts/schemathesis-<role>/.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from tests.fixtures.web import ARTIFACTS, ROOT, make_user
from tests.web.capacity_data import finished_run
from tests.web.runs_core_data import revision

pytestmark = [pytest.mark.redis, pytest.mark.long_once]

SEED = 20260611
MAX_EXAMPLES = int(os.environ.get("ATP_FUZZ_API_EXAMPLES", "5"))
CHECKS = "not_a_server_error,response_schema_conformance"


@pytest.fixture
def fuzz_rows(live_server, monkeypatch, settings, tmp_path):
    """Real objects for every kind of path parameter: names, ids, revision numbers."""
    from django.core.files.base import ContentFile
    from PIL import Image

    from hosts.models import Host, VdiEndpoint, VirtualMachine
    from runs.services import launch_run
    from scenarios.models import ReferenceImage

    host = Host.objects.create(name="local", uri="test:///default", description="fuzz")
    for name in ("demo-1", "demo-2"):
        VirtualMachine.objects.create(host=host, name=name, tags=["demo"], state="running")
    endpoint = VdiEndpoint(name="vdi", url="http://127.0.0.1:9/", username="admin")
    endpoint.set_password("pw")
    endpoint.save()
    revision("demo")
    revision("demo")
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(buf, "PNG")
    ref = ReferenceImage(name="banner", width=64, height=48, areas=[])
    ref.image.save("banner.png", ContentFile(buf.getvalue()), save=False)
    ref.save()
    rev = revision("demo")
    run = launch_run(rev, [{"vm": "demo-1", "host": "local"}], {}, None)
    vm = VirtualMachine.objects.get(name="demo-1")
    capacity = finished_run(host, template="demo-1")
    return {
        "^/api/hosts/[{]": {"path.name": "local"},
        "^/api/vdi-endpoints/[{]": {"path.name": "vdi"},
        "^/api/scenarios/[{]": {"path.name": "demo", "path.number": 1},
        "^/api/references/[{]": {"path.name": "banner"},
        "^/api/runs/[{]": {"path.id": run.pk},
        "^/api/vms/[{]": {"path.id": vm.pk},
        "^/api/capacity/[{]": {"path.id": capacity.pk},
    }


def _config(rows: dict, path) -> str:
    """A schemathesis.toml giving the path parameters of each group of operations real values."""
    lines = []
    for regex, params in rows.items():
        lines.append("[[operations]]")
        lines.append(f'include-path-regex = "{regex}"')
        lines.append("[operations.parameters]")
        for key, value in params.items():
            lines.append(f'"{key}" = {value!r}'.replace("'", '"'))
        lines.append("")
    path.write_text("\n".join(lines))
    return str(path)


def _token(username: str, role: str) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=make_user(username, role)).key


# Writes only an admin may make (hosts, VDI endpoints): an operator gets a 403 for each, which
# test_url_permissions proves; a viewer gets a 403 for every write but validate. DELETE
# /api/token/ would revoke the fuzzer's own token (test_api_token_revoke_expiry covers it).
ROLE_FILTERS = {
    "operator": [
        "--exclude-name-regex",
        "^(POST /api/(hosts|vdi-endpoints)/$|(PUT|PATCH|DELETE) /api/(hosts|vdi-endpoints)/"
        "|DELETE /api/token/$)",
    ],
    "viewer": ["--include-name-regex", "^(GET |POST /api/scenarios/validate/$)"],
}


def _fuzz(base: str, token: str, role: str, config: str) -> subprocess.CompletedProcess:
    report = ARTIFACTS / f"schemathesis-{role}"
    report.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        config,
        "run",
        f"{base}/api/schema/?format=json",
        "--url",
        base,
        "-H",
        f"Authorization: Token {token}",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--checks",
        CHECKS,
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-shrink",
        "--report",
        "junit",
        "--report-dir",
        str(report),
        "--output-truncate",
        "false",
        *ROLE_FILTERS[role],
    ]
    return subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=900, env={**os.environ}
    )


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_the_api_fuzzer_finds_no_server_error_and_no_schema_violation(
    live_server, fuzz_rows, role, tmp_path
):
    token = _token(f"fuzz-{role}", role)
    done = _fuzz(str(live_server), token, role, _config(fuzz_rows, tmp_path / "st.toml"))
    (ARTIFACTS / f"schemathesis-{role}" / "output.txt").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
