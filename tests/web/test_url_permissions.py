"""Every URL and websocket route refuses an anonymous user; a viewer can neither edit nor launch.

The routes are read from the URLconf and atp_site.routing at test time, so routes added later
(by any app) are covered without touching this file.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db

# Routes open to anonymous users on purpose: logging in, health, static files, getting a token,
# the favicon (a redirect to a static file, asked for by the login page too).
ANONYMOUS_OK = {"/accounts/login/", "/healthz", "/api/token/", "/favicon.ico"}
# Requests that change nothing shared, so a viewer may send them: log in/out, the health
# check and the home redirect, validate editor text, (re)generate one's own API token, score
# a reference's areas against a screen (the reference editor's live score writes nothing).
VIEWER_POST_OK = {
    "/",
    "/healthz",
    "/admin/login/",
    "/admin/logout/",
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/token/",
    "/api/token/",
    "/scenarios/validate",
    "/references/score",
    "/api/scenarios/validate/",
}
SAMPLE = "1"


def _from_route(route: str) -> str:
    return re.sub(r"<(?:(\w+):)?(\w+)>", SAMPLE, route)


def _from_regex(regex: str) -> str:
    text = regex.lstrip("^").rstrip("$")
    text = re.sub(r"\(\?P<\w+>[^)]*\)", SAMPLE, text)
    text = text.replace("/?", "/").replace("\\.", ".")
    return text


def _pattern_text(pattern) -> str:
    route = getattr(pattern.pattern, "_route", None)
    if route is not None:
        return _from_route(route)
    return _from_regex(pattern.pattern.regex.pattern)


def _walk(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        if "format" in str(entry.pattern):  # DRF's format-suffix twins of the listed routes
            continue
        text = prefix + _pattern_text(entry)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, text)
        elif isinstance(entry, URLPattern):
            yield "/" + text


def all_paths() -> list[str]:
    paths = []
    for path in sorted(set(_walk(get_resolver()))):
        try:
            resolve(path)
        except Resolver404:
            pytest.fail(f"could not build a resolvable sample path for {path}")
        paths.append(path)
    return paths


def _refused_anonymous(response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code == 302 and "/login/" in response["Location"]


def _refused_write(response) -> bool:
    if response.status_code in (401, 403, 405):
        return True
    # Django admin sends a non-staff user to its login page
    return response.status_code == 302 and "login" in response["Location"]


def test_the_walk_finds_every_area():
    paths = all_paths()
    for expected in ("/hosts/", "/scenarios/", "/vdi/", "/api/hosts/", "/api/scenarios/"):
        assert expected in paths, f"{expected} missing from the walk: {paths}"
    assert len(paths) > 40


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_anonymous_is_refused_everywhere(client, method):
    leaked = []
    for path in all_paths():
        if path in ANONYMOUS_OK or path.startswith("/static/"):
            continue
        response = getattr(client, method)(path)
        if not _refused_anonymous(response):
            leaked.append(f"{method.upper()} {path} -> {response.status_code}")
    assert not leaked, "anonymous requests not refused:\n" + "\n".join(leaked)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_viewer_cannot_edit_or_launch(client, method):
    client.force_login(make_user("vera", "viewer"))
    allowed = []
    for path in all_paths():
        if path in VIEWER_POST_OK:
            continue
        response = getattr(client, method)(path, content_type="application/json", data="{}")
        if not _refused_write(response):
            allowed.append(f"{method.upper()} {path} -> {response.status_code}")
    assert not allowed, "a viewer was not refused:\n" + "\n".join(allowed)


def test_viewer_can_read_pages(client):
    client.force_login(make_user("vera", "viewer"))
    for path in ("/hosts/", "/scenarios/", "/vdi/", "/vms/", "/references/", "/api/hosts/"):
        assert client.get(path).status_code == 200, path


def test_only_admins_manage_users(client):
    client.force_login(make_user("olga", "operator"))
    assert client.get("/accounts/users/").status_code == 403
    client.force_login(make_user("adam", "admin"))
    assert client.get("/accounts/users/").status_code == 200


def _ws_paths() -> list[str]:
    from atp_site.routing import websocket_urlpatterns

    return ["/" + _pattern_text(p) for p in websocket_urlpatterns]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_every_websocket_route_refuses_anonymous():
    from channels.testing import WebsocketCommunicator

    from atp_site.asgi import application

    paths = _ws_paths()
    assert "/ws/inventory/" in paths
    for path in paths:
        communicator = WebsocketCommunicator(
            application, path, headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
        )
        connected, _ = await communicator.connect(timeout=5)
        if connected:
            message = await communicator.receive_output(timeout=5)
            await communicator.disconnect()
            assert message["type"] == "websocket.close", f"{path} accepted an anonymous user"
        await communicator.wait()
