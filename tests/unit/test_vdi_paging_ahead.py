"""A paged list fetches one page ahead while the current page is handed out: the walk still asks
for each page once and in order, an abandoned walk asks for at most one page more, and an error
or a cancel on a later page reaches the caller."""

from __future__ import annotations

import time

import pytest

from atp_core.cancel import CancelToken
from atp_core.errors import Cancelled
from atp_core.vdiplatform.errors import VdiApiError


def _pages(sim) -> list[int]:
    return [
        int(r["query"]["pageNum"]) for r in sim.records() if r["template"] == "/ocloud/v1/domain"
    ]


def _wait_for_pages(sim, count: int, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while len(pages := _pages(sim)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return pages


def test_the_next_page_is_asked_for_while_the_first_is_handed_out(vdisim_memory, vdi_client):
    walk = vdi_client.domains.list(page_size=10)
    first = next(walk)
    # the caller holds row 1 of page 1 and has asked for nothing more: page 2 is on its way
    assert _wait_for_pages(vdisim_memory, 2) == [1, 2]
    rest = list(walk)
    assert len({first.id, *(v.id for v in rest)}) == 39
    assert _pages(vdisim_memory) == [1, 2, 3, 4]  # each page once, in order, none past the end


def test_an_abandoned_walk_asks_for_at_most_one_page_more(vdisim_memory, vdi_client):
    walk = vdi_client.domains.list(page_size=10)
    taken = [next(walk) for _ in range(5)]
    walk.close()
    assert len(taken) == 5
    assert _wait_for_pages(vdisim_memory, 2) == [1, 2]
    # the client is still usable after the abandoned walk
    assert vdi_client.domains.get(taken[0].id).id == taken[0].id
    assert _pages(vdisim_memory) == [1, 2]


def test_an_error_on_a_later_page_reaches_the_caller(vdisim_memory, vdi_client):
    walk = vdi_client.domains.list(page_size=10)
    got = [next(walk)]
    vdisim_memory.faults(api_error={"status": 9001, "msg": "page broke", "count": 5})
    with pytest.raises(VdiApiError, match="page broke"):
        got.extend(walk)
    assert 1 <= len(got) <= 20  # page 1, perhaps page 2 (asked for before the fault): never more


def test_a_cancel_during_the_walk_stops_it(vdisim_memory):
    token = CancelToken()
    client = vdisim_memory.client(cancel=token)
    walk = client.domains.list(page_size=10)
    got = [next(walk)]
    token.cancel("operator pressed cancel")
    with pytest.raises(Cancelled):
        got.extend(walk)
    assert len(got) <= 20
