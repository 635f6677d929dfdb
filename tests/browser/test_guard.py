"""The browser tests' own guard: Chromium reaches the live server and nothing else, and says so."""
from __future__ import annotations

import pytest
from playwright.sync_api import Error

from .conftest import Guard


def test_requests_leaving_the_service_fail_and_are_recorded(browser, live_server):
    guard = Guard(live_server)
    context = guard.attach(browser.new_context())
    try:
        page = context.new_page()
        assert page.goto(f"{live_server}/login").status == 200  # the loopback server is reached
        for outside in ("http://198.51.100.7/lib.js", "https://cdn.example.com/lib.js"):
            with pytest.raises(Error):
                page.goto(outside, timeout=10_000)
        assert guard.blocked == ["http://198.51.100.7/lib.js", "https://cdn.example.com/lib.js"]
    finally:
        context.close()
