"""Events: the platform's records of asynchronous tasks (``/ocloud/v1/event``)."""

from __future__ import annotations

import builtins  # the API groups have a list() method: annotations name the type
import time
from collections.abc import Iterable, Iterator

from atp_core.vdiplatform.api._base import ApiGroup, id_list, seg
from atp_core.vdiplatform.errors import VdiEventFailed, VdiTimeout
from atp_core.vdiplatform.records import Event

OPERATIONS = [("GET", "/ocloud/v1/event"), ("GET", "/ocloud/v1/event/{id}")]


class EventsApi(ApiGroup):
    def get(self, event_id: str) -> Event:
        """``GET /ocloud/v1/event/{id}``."""
        return Event.from_api(
            self._client.call("GET", f"/ocloud/v1/event/{seg(event_id, 'event id')}")
        )

    def list(
        self,
        *,
        domain_name: str | None = None,
        operate_type: int | None = None,
        page_size: int = 100,
    ) -> Iterator[Event]:
        """``GET /ocloud/v1/event`` (every page)."""
        params = {"domainName": domain_name, "operateType": operate_type}
        return self._client.iter_pages(
            "/ocloud/v1/event", params, page_size=page_size, convert=Event.from_api
        )

    def wait(
        self,
        event_id: str,
        timeout: float = 120.0,
        *,
        poll: float = 0.25,
        raise_on_failure: bool = True,
    ) -> Event:
        """Follow one event until it completes; ``VdiTimeout`` after ``timeout`` seconds,
        ``VdiEventFailed`` if it completed with an error (unless ``raise_on_failure`` is false)."""
        return self.wait_all([event_id], timeout, poll=poll, raise_on_failure=raise_on_failure)[0]

    def wait_all(
        self,
        event_ids: Iterable[str],
        timeout: float = 120.0,
        *,
        poll: float = 0.25,
        raise_on_failure: bool = True,
    ) -> builtins.list[Event]:
        """Follow several events (e.g. a batch operation's ``event_ids``) until all complete."""
        ids = list(event_ids)
        if not ids:
            return []
        id_list(ids, "event ids")
        deadline = time.monotonic() + timeout
        finished: dict[str, Event] = {}
        while True:
            for event_id in ids:
                if event_id not in finished:
                    event = self.get(event_id)
                    if event.done:
                        finished[event_id] = event
            if len(finished) == len(ids):
                break
            if time.monotonic() >= deadline:
                pending = [e for e in ids if e not in finished]
                raise VdiTimeout(
                    f"event(s) {', '.join(pending[:5])} not complete after {timeout}s",
                    method="GET",
                    path="/ocloud/v1/event/{id}",
                )
            self._client.cancel.wait(min(poll, max(0.0, deadline - time.monotonic())))
        events = [finished[e] for e in ids]
        if raise_on_failure:
            for event in events:
                if event.failed:
                    raise VdiEventFailed(event, event.error_reason or "unknown reason")
        return events
