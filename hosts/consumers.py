"""Websocket of the inventory page: pushes guest-agent results and VM changes as they happen."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .services import INVENTORY_GROUP


class InventoryConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.channel_layer.group_add(INVENTORY_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(INVENTORY_GROUP, self.channel_name)

    async def inventory_event(self, event):
        await self.send_json({k: v for k, v in event.items() if k != "type"})
