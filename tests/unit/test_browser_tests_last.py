"""Browser tests run last, and a test without the browser that would run once the browser has
started fails with the reason (tests/conftest.py, tests/fixtures/web.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import tests.conftest as conftest
import tests.fixtures.web as web


def _item(name: str, *fixtures: str):
    return SimpleNamespace(nodeid=name, fixturenames=list(fixtures))


def test_browser_tests_are_moved_after_the_others_in_their_order():
    items = [_item("b1", "browser", "page"), _item("w1", "db"), _item("b2", "page", "browser")]
    items.append(_item("u1"))
    conftest.pytest_collection_modifyitems(None, items)
    assert [i.nodeid for i in items] == ["w1", "u1", "b1", "b2"]


def test_a_test_without_the_browser_after_it_started_fails_with_the_reason(monkeypatch):
    monkeypatch.setattr(web, "_browser_running", True)
    conftest.pytest_runtest_setup(_item("tests/browser/test_x.py::test_b", "browser", "page"))
    with pytest.raises(pytest.fail.Exception, match="browser tests must run last"):
        conftest.pytest_runtest_setup(_item("tests/web/test_y.py::test_w", "client"))


def test_before_the_browser_starts_any_test_may_run(monkeypatch):
    monkeypatch.setattr(web, "_browser_running", False)
    assert conftest.pytest_runtest_setup(_item("tests/web/test_y.py::test_w", "client")) is None
