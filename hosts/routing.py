from django.urls import path

from .console import ConsoleConsumer
from .consumers import InventoryConsumer

websocket_urlpatterns = [
    path("ws/inventory/", InventoryConsumer.as_asgi()),
    path("ws/vms/<int:vm_id>/console/", ConsoleConsumer.as_asgi()),
]
