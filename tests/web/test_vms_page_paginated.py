"""/vms/ is paginated (ATP_VMS_PAGE_SIZE a page) with the filters kept in the pager's links;
the VM API list is paginated too (issue 11 item 11)."""

import pytest
from rest_framework.authtoken.models import Token

from hosts.models import VirtualMachine
from tests.dist import factories as f
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def vms(settings):
    settings.ATP_VMS_PAGE_SIZE = 10
    host = f.host("hd-a")
    for i in range(25):
        f.vm(host, f"desk-{i:02d}")
    VirtualMachine.objects.filter(name__lt="desk-05").update(tags=["prod"])


def test_the_page_shows_one_page_and_links_the_next_with_the_filters(client, vms):
    client.force_login(make_user("vera", "viewer"))
    html = client.get("/vms/").content.decode()
    assert html.count("<tr data-vm=") == 10 and "page 1 of 3 (25 VMs)" in html
    assert 'href="?page=2" rel="next"' in html
    last = client.get("/vms/?page=3").content.decode()
    assert last.count("<tr data-vm=") == 5 and "desk-24" in last
    filtered = client.get("/vms/?q=desk-1").content.decode()  # desk-1x: 10 rows, one page
    assert filtered.count("<tr data-vm=") == 10 and 'class="pager"' not in filtered
    tagged = client.get("/vms/?q=desk&tag=prod").content.decode()
    assert tagged.count("<tr data-vm=") == 5
    both = client.get("/vms/?q=desk&page=2").content.decode()
    assert 'href="?q=desk&amp;page=3" rel="next"' in both
    assert 'href="?q=desk&amp;page=1"' in both


def test_the_api_list_is_paginated(client, vms):
    key = Token.objects.create(user=make_user("vera", "viewer")).key
    data = client.get("/api/vms/?limit=7", HTTP_AUTHORIZATION=f"Token {key}").json()
    assert data["count"] == 25 and len(data["results"]) == 7 and data["next"]
