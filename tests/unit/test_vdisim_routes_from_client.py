"""The simulator's routes are the client's operation table: neither can gain an operation alone.

``vdisim.server.ROUTES`` is built from ``atp_core.vdiplatform.api.OPERATIONS`` with the handlers
the resource modules of ``vdisim.api`` register; ``build_routes`` refuses a client operation
without a handler and a handler without a client operation.
"""

from __future__ import annotations

import pytest

from atp_core.vdiplatform.api import OPERATIONS
from vdisim.api import HANDLERS, Operation
from vdisim.server import ROUTES, RouteMismatch, build_routes


def test_every_client_operation_has_exactly_one_simulator_route_and_back():
    routes = [(r.method, r.template) for r in ROUTES]
    assert len(routes) == len(set(routes)) == len(OPERATIONS)
    assert set(routes) == set(OPERATIONS)
    assert set(HANDLERS) == set(OPERATIONS)


def test_a_client_operation_without_a_simulator_handler_is_refused():
    extra = ("POST", "/ocloud/v1/domain/{id}/snapshot")
    with pytest.raises(
        RouteMismatch, match=r"no simulator handler for POST /ocloud/v1/domain/\{id\}/snapshot"
    ):
        build_routes([*OPERATIONS, extra], HANDLERS)


def test_a_simulator_handler_no_client_operation_calls_is_refused():
    handlers = dict(HANDLERS)
    handlers[("GET", "/ocloud/v1/vmc")] = Operation("GET", "/ocloud/v1/vmc", lambda p, r: [])
    with pytest.raises(RouteMismatch, match=r"no client operation for GET /ocloud/v1/vmc"):
        build_routes(OPERATIONS, handlers)


def test_literal_paths_are_matched_before_templated_ones():
    order = [r.template for r in ROUTES]
    assert order.index("/ocloud/v1/host/all") < order.index("/ocloud/v1/host/{id}")
    assert order.index("/ocloud/v1/domain/delete") < order.index("/ocloud/v1/domain/{id}")
