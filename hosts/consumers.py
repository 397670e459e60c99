"""Websocket of the inventory page: pushes guest-agent results and VM changes as they happen.

The messages carry no sequence numbers: when some may have been lost (the channel layer's
``channel.resync`` after a Redis outage, ``channel.overflow`` when this consumer fell behind)
the page is sent ``{"kind": "resync"}`` and re-reads its state from the server
(``static/atp/inventory.js``), as it does whenever its socket (re)connects."""

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

    async def channel_resync(self, message):
        await self.send_json({"kind": "resync"})

    async def channel_overflow(self, message):
        await self.send_json({"kind": "resync"})
