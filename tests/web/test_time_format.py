"""One time format everywhere: dates as YYYY-MM-DD and 24-hour times, also where a template
prints a datetime without an explicit format."""

import datetime as dt
import re
from pathlib import Path

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
