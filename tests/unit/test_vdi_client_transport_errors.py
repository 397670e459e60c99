"""HTTP errors, timeouts, refused connections and non-JSON answers are distinct typed errors;
idempotent reads are retried with backoff, writes are not."""

from __future__ import annotations

import pytest

from atp_core.errors import ConnectionFailed, OperationTimeout, ProtocolError
from atp_core.vdiplatform import (
    VdiClient,
    VdiConnectionError,
    VdiHttpError,
    VdiProtocolError,
    VdiTimeout,
)
from tests.prereq import free_port


def _count(sim, template: str) -> int:
    return sum(1 for r in sim.records() if r["template"] == template)


def test_a_transient_5xx_on_a_read_is_retried(vdisim_memory):
    client = vdisim_memory.client(retries=2, backoff=0.05)
    client.login()
    vdisim_memory.faults(http_error={"status": 503, "count": 2})
    assert client.hosts.all()[0].name == "ocloud"


def test_a_persistent_5xx_is_an_http_error_after_the_retries(vdisim_memory):
    client = vdisim_memory.client(retries=2, backoff=0.01)
    client.login()
    vdisim_memory.faults(http_error={"status": 500, "count": 5})
    with pytest.raises(VdiHttpError) as err:
        client.hosts.all()
    assert err.value.http_status == 500 and "Internal Server Error" in err.value.body
    assert vdisim_memory.faults(http_error=None)["http_error"] is None


def test_a_5xx_on_a_write_is_not_retried(vdisim_memory):
    client = vdisim_memory.client(retries=3, backoff=0.01)
    client.login()
    pool = client.desk_pools.find("testpool")
    vdisim_memory.faults(http_error={"status": 502, "count": 1})
    with pytest.raises(VdiHttpError) as err:
        client.desk_pools.disable(pool.id)
    assert err.value.http_status == 502 and err.value.method == "POST"
    assert client.desk_pools.find("testpool").enabled is True  # the write never ran


def test_an_unknown_route_is_an_http_404(vdi_client):
    with pytest.raises(VdiHttpError) as err:
        vdi_client.call("GET", "/ocloud/v1/desk-pool/some-id/nothing-here")
    assert err.value.http_status == 404


def test_a_slow_platform_is_a_timeout(vdisim_memory):
    client = vdisim_memory.client(timeout=0.3, retries=1, backoff=0.01)
    client.login()
    vdisim_memory.faults(delay=1.0, delay_paths=["/ocloud/v1/host"])
    with pytest.raises(VdiTimeout) as err:
        client.hosts.all()
    assert isinstance(err.value, OperationTimeout)
    # the client's own timeout, not the server's pace (that would have answered after 1 s)
    assert "no answer within 0.3s" in str(err.value)
    vdisim_memory.faults(delay=0)


def test_nobody_listening_is_a_connection_error():
    client = VdiClient(f"http://127.0.0.1:{free_port()}", "admin", "x", retries=1, backoff=0.01)
    with pytest.raises(VdiConnectionError) as err:
        client.login()
    assert isinstance(err.value, ConnectionFailed) and "cannot reach" in str(err.value)


def test_a_non_json_answer_is_a_protocol_error(vdisim_memory):
    client = vdisim_memory.client()
    client.login()
    vdisim_memory.faults(garbage=1)
    with pytest.raises(VdiProtocolError) as err:
        client.desk_pools.enable(client.desk_pools.find("testpool").id)
    assert isinstance(err.value, ProtocolError) and "not JSON" in str(err.value)
