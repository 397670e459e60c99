"""Every page a person can reach, opened in a real browser as each role: from the navigation,
then the first item of each list (hosts, VMs, endpoints, scenarios, references, runs,
schedules, users) and the pages that item links to. No page may answer >= 500 or raise a
script error (the ``page`` fixture's watch fails the test on either). A screenshot of every
page is kept in test-artifacts/crawl/."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.fixtures.web import ARTIFACTS, browser_login, make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.browser

# GET links that change something, or are not pages (files, API, admin)
SKIP = re.compile(
    r"logout|delete|remove|cancel|archive|restore|deactivate|rerun|run-now|/ws/"
    r"|\.(png|json|xml|yaml|css|js|ico)$|/media/|/static/|/admin/|/api/|/export"
)
LISTS = (
    "/hosts/",
    "/vms/",
    "/vdi/",
    "/scenarios/",
    "/references/",
    "/runs/",
    "/schedules/",
    "/accounts/users/",
)


def _in_thread(fn, *args, **kwargs):
    """ORM + channel-layer code off Playwright's event-loop thread (async_to_sync refuses to
    run inside a running loop)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result(timeout=120)


def _seed(tmp_dir):
    """The demo library plus one row of every kind a list shows."""
    from django.conf import settings

    from hosts.models import VdiEndpoint
    from scenarios.services import load_examples
    from schedules.models import Schedule
    from schedules.services import save_schedule

    admin = make_user("ada", "admin")
    make_user("otto", "operator")
    make_user("vic", "viewer")
    loaded = load_examples(settings.BASE_DIR / "examples", admin)
    assert loaded["scenarios"] and loaded["references"] and not loaded["errors"], loaded
    # libvirt's test driver has a running domain "test" with a screen
    host, vm = data.host_and_vm("local", "test")
    VdiEndpoint.objects.create(
        name="lab-vdi",
        url="http://127.0.0.1:9/",  # nothing listens: pages must say so, not fail
        username="admin",
        libvirt_host=host,
    )
    sc, rev = data.scenario("crawl-demo", admin)
    targets = (("local", "test"),)
    finished = data.new_run(sc, rev, admin, targets=targets)
    data.play(finished, ("passed", "failed", "passed"))
    running = data.new_run(sc, rev, admin, targets=targets)
    data.play(running, upto="step2")
    save_schedule(
        Schedule(
            name="nightly",
            scenario=sc,
            targets=[{"vm": "test", "host": "local"}],
            kind=Schedule.KIND_INTERVAL,
            every_seconds=3600,
            created_by=admin,
        )
    )


def _links(where, base: str) -> list[str]:
    """Same-site page links (GET, nothing destructive) in a page or a locator."""
    hrefs = where.locator("a[href]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    out = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.netloc and not base.endswith(parts.netloc):
            continue
        path = parts.path
        if not path.startswith("/") or SKIP.search(path):
            continue
        url = path + (f"?{parts.query}" if parts.query else "")
        if url not in out:
            out.append(url)
    return out


# path segments that name a page rather than an item
LITERALS = {"add", "new", "import", "validate", "compare", "trends", "users", "token", "hooks"}


def _shape(url: str) -> tuple:
    """Pages of one kind (/runs/7/ and /runs/8/, /scenarios/a/ and /scenarios/b/): only the
    first of each is opened. Numbers and item names become ``*``; the query is kept apart."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    shape = [
        seg if i == 0 or seg in LITERALS or (i == len(segments) - 1 and i >= 2) else "*"
        for i, seg in enumerate(segments)
    ]
    shape = [("*" if s.isdigit() else s) for s in shape]
    return (*shape, parts.path.endswith("/"), bool(parts.query))


def _crawl(page, base: str, role: str) -> list[str]:
    """The navigation's pages, then (first of each kind) the pages they link to, twice over."""
    opened: list[str] = []
    seen: set[str] = set()
    shapes: set[tuple] = set()

    def visit(url: str) -> list[str]:
        seen.add(url)
        response = page.goto(base + url)
        assert response is not None, url
        assert response.status < 500, f"{role} GET {url} -> {response.status}"
        page.wait_for_load_state("load")
        opened.append(url)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", url).strip("-") or "home"
        page.screenshot(path=str(ARTIFACTS / "crawl" / f"{role}-{slug}.png"), full_page=True)
        problems = list(page.watch.problems)
        assert not problems, f"{role} GET {url}: {problems}"
        return _links(page, base) if response.status < 400 else []

    visit("/")
    nav = _links(page.locator("nav").first, base) if page.locator("nav").count() else []
    assert len(nav) >= 8, f"the navigation has links: {nav}"
    level = []
    for url in nav:
        shapes.add(_shape(url))
        if url not in seen:
            level += visit(url)
    for _depth in range(2):
        following = []
        for url in level:
            if url in seen or _shape(url) in shapes:
                continue
            shapes.add(_shape(url))
            following += visit(url)
        level = following
    return opened


def test_every_reachable_page_opens_for_every_role(live_server, page, tmp_path):
    _in_thread(_seed, tmp_path)
    (ARTIFACTS / "crawl").mkdir(parents=True, exist_ok=True)
    for role, user in (("admin", "ada"), ("operator", "otto"), ("viewer", "vic")):
        page.context.clear_cookies()
        browser_login(page, live_server, user)
        opened = _crawl(page, live_server, role)
        print(f"{role}: {len(opened)} pages", *opened, sep="\n  ")
        lists = [u for u in LISTS if role == "admin" or u != "/accounts/users/"]
        assert set(lists) <= set(opened), (role, lists, opened)
        # the first item of every list was reached, and pages it links to
        for pattern in (
            r"^/hosts/\d+/edit$" if role == "admin" else r"^/hosts/$",
            r"^/vdi/\d+/$",
            r"^/scenarios/[\w-]+/$",
            r"^/scenarios/[\w-]+/revisions/\d+/$",
            r"^/references/[\w-]+/$",
            r"^/runs/\d+/$",
            r"^/runs/\d+/report$",
        ):
            assert any(re.match(pattern, p) for p in opened), (role, pattern, opened)
        if role != "viewer":
            assert "/references/new" in opened and "/scenarios/new" in opened, opened
        if role == "admin":
            assert any(re.match(r"^/schedules/\d+/edit$", p) for p in opened), opened
