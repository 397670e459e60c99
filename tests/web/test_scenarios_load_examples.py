"""The shipped examples load into the library (as the demo does), once, with their references."""

from pathlib import Path

from django.core.management import call_command

from scenarios.models import ReferenceImage, Scenario
from tests.fixtures.web import make_user

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_every_example_and_reference_loads_idempotently(db):
    make_user("alice", "admin")
    files = sorted(EXAMPLES.glob("*.yaml"))
    refs = sorted((EXAMPLES / "references").glob("*.png"))
    assert len(files) >= 10 and refs

    call_command("atp_load_examples", str(EXAMPLES), user="alice")
    assert Scenario.objects.count() == len(files)
    assert all(s.current_revision for s in Scenario.objects.all())
    assert {r.name for r in ReferenceImage.objects.all()} == {
        p.stem.partition("@")[0] for p in refs
    }, "NAME@LABEL.png is a candidate of NAME, not a reference of its own"
    banner = ReferenceImage.objects.get(name="console-banner")
    assert banner.areas[0]["type"] == "match" and banner.width > 0
    revisions = {s.name: s.revisions.count() for s in Scenario.objects.all()}

    call_command("atp_load_examples", str(EXAMPLES), user="alice")
    assert {s.name: s.revisions.count() for s in Scenario.objects.all()} == revisions
