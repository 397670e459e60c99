"""A channel in a Channels group, read from synchronous test code.

The pub/sub channel layer keeps its subscriptions per event loop, and ``async_to_sync`` runs
every call on a new loop (a channel made in one is unknown to the next). ``GroupListener`` keeps
one loop for its channel: join, then read with a timeout; ``close()`` ends the subscriptions.
"""

from __future__ import annotations

import asyncio

from channels.layers import get_channel_layer

READY = "listener.ready"


class GroupListener:
    def __init__(self, group: str, timeout: float = 10.0):
        self.loop = asyncio.new_event_loop()
        self.layer = get_channel_layer()
        self.channel = self._run(self.layer.new_channel(), timeout)
        self._run(self.layer.group_add(group, self.channel), timeout)
        # a subscription is only sent, not confirmed: one message of our own through the group
        # proves Redis has it before the test makes the messages it waits for
        self._run(self.layer.group_send(group, {"type": READY}), timeout)
        ready = self.receive(timeout)
        assert ready == {"type": READY}, ready

    def _run(self, coro, timeout: float):
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def receive(self, timeout: float = 5.0) -> dict:
        return self._run(self.layer.receive(self.channel), timeout)

    def receive_all(self, count: int, timeout: float = 5.0) -> list[dict]:
        return [self.receive(timeout) for _ in range(count)]

    def close(self) -> None:
        if not self.loop.is_closed():
            self.loop.close()  # the layer flushes this loop's subscriptions on close
