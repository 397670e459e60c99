"""Every destructive action asks the same way: its form carries data-confirm (handled by
static/atp/site.js on every page), and the question names what is removed."""

import pytest

from hosts.models import Host, VdiEndpoint
from schedules import services as schedule_services
from schedules.models import NotificationHook, Schedule
from tests.dist import factories as f
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


def _form_tags(html: str, action: str) -> list[str]:
    """The attributes after action="..." of every form posting there."""
    assert f'action="{action}"' in html, action
    return [part.split(">")[0] for part in html.split(f'action="{action}"')[1:]]


def test_every_destructive_form_asks_first(client):
    admin = make_user("alice", "admin")
    other = make_user("bob", "viewer")
    client.force_login(admin)
    host = Host.objects.create(name="far", uri="test:///default")
    endpoint = VdiEndpoint.objects.create(name="lab", url="https://vdi.example", username="u")
    hook = NotificationHook.objects.create(name="chat", url="https://hooks.example/x")
    rev = f.revision("smoke")
    f.vm(f.host("hd-a"), "vm1")
    schedule = schedule_services.save_schedule(
        Schedule(name="nightly", scenario=rev.scenario, targets=[{"vm": "vm1"}], every_seconds=60)
    )
    data.scenario("old")

    cases = {
        f"/hosts/{host.pk}/edit": (f"/hosts/{host.pk}/delete", "Remove host far"),
        f"/vdi/{endpoint.pk}/edit": (f"/vdi/{endpoint.pk}/delete", "Remove VDI endpoint lab"),
        f"/schedules/hooks/{hook.pk}/edit": (
            f"/schedules/hooks/{hook.pk}/delete",
            "Remove notification chat",
        ),
        f"/schedules/{schedule.pk}/edit": (
            f"/schedules/{schedule.pk}/delete",
            "Remove schedule nightly",
        ),
        "/accounts/users/": (f"/accounts/users/{other.pk}/update", "Deactivate bob?"),
        "/scenarios/old/": ("/scenarios/old/archive", "Archive old?"),
    }
    for page, (action, question) in cases.items():
        html = client.get(page).content.decode()
        assert "/static/atp/site.js" in html, page
        tags = _form_tags(html, action)
        assert any(f'data-confirm="{question}' in t for t in tags), f"{page}: {tags}"
        assert not any("onsubmit" in t for t in tags), "one way of asking, not inline handlers"
