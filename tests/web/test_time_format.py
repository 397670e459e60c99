"""One time format everywhere: dates as YYYY-MM-DD and 24-hour times, also where a template
prints a datetime without an explicit format."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.template import Context, Template

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_a_datetime_without_format_renders_as_24_hour():
    when = dt.datetime(2024, 3, 9, 16, 5, 7, tzinfo=dt.UTC)
    text = Template("{{ when }} | {{ when|date }} | {{ when|time }}").render(
        Context({"when": when})
    )
    assert text == "2024-03-09 16:05:07 | 2024-03-09 | 16:05"


def test_no_template_asks_for_a_12_hour_clock():
    # g/h are 12-hour hours, a/A/P the a.m./p.m. markers of Django's date filter
    twelve_hour = re.compile(r"\|(?:date|time):[\"']([^\"']*)[\"']")
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        for fmt in twelve_hour.findall(path.read_text()):
            if re.search(r"(?<!\\)[ghaAP]", fmt):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {fmt}")
    assert offenders == []


@pytest.mark.django_db
def test_vdi_last_verify_time_in_the_site_format(client):
    """The verify report's time is stored as an ISO string in a JSON field; the page prints it
    like every other time (24 h, no microseconds or offset)."""
    from hosts.models import VdiEndpoint
    from tests.fixtures.web import make_user

    endpoint = VdiEndpoint.objects.create(
        name="sim",
        url="http://127.0.0.1:9/",
        username="admin",
        last_verify={
            "checked_at": "2026-12-01T23:11:05.658477+00:00",
            "outcome": "consistent",
            "summary": "consistent: 0 VM(s) agree",
        },
    )
    client.force_login(make_user("olga", "operator"))
    html = client.get(f"/vdi/{endpoint.pk}/").content.decode()
    assert "23:11:05" in html and "658477" not in html and "T23:11" not in html
