"""Paged lists are walked to the end: every row once, across more than three pages."""

from __future__ import annotations

from atp_core.vdiplatform import DomainStatus


def test_listing_walks_every_page(vdisim_memory, vdi_client):
    vms = list(vdi_client.domains.list(page_size=10))
    assert len(vms) == 39 and len({v.id for v in vms}) == 39
    pages = [
        int(r["query"]["pageNum"])
        for r in vdisim_memory.records()
        if r["template"] == "/ocloud/v1/domain"
    ]
    assert pages == [1, 2, 3, 4]
    one_page = list(vdi_client.domains.list(page_size=1000))
    assert [v.id for v in vms] == [v.id for v in one_page]


def test_filters_are_sent_in_the_vendor_form(vdisim_memory, vdi_client):
    off_or_paused = list(
        vdi_client.domains.list(status=[DomainStatus.OFF, DomainStatus.SUSPENDED], page_size=4)
    )
    assert off_or_paused and all(v.status in (0, 2) for v in off_or_paused)
    query = [r["query"] for r in vdisim_memory.records() if r["template"] == "/ocloud/v1/domain"]
    assert query[0]["status"] == "0,2"
    assert len(query) > 3  # 24 rows at 4 a page


def test_an_empty_list_is_one_call_and_no_rows(vdi_client):
    assert list(vdi_client.domains.list(keyword="nothing-matches-this")) == []
