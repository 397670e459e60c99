"""Every websocket route of the site, gathered from the apps."""

from hosts.routing import websocket_urlpatterns as hosts_ws
from runs.routing import websocket_urlpatterns as runs_ws

websocket_urlpatterns = [*hosts_ws, *runs_ws]
