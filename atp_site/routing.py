"""Every websocket route of the site, gathered from the apps."""

from hosts.routing import websocket_urlpatterns as hosts_ws

websocket_urlpatterns = [*hosts_ws]
