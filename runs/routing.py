from django.urls import path

from .console import RunTargetConsoleConsumer
from .consumers import RunConsumer

websocket_urlpatterns = [
    path("ws/runs/<int:run_id>/", RunConsumer.as_asgi()),
    path(
        "ws/runs/<int:run_id>/targets/<int:target_id>/console/",
        RunTargetConsoleConsumer.as_asgi(),
    ),
]
