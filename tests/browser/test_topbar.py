"""The top bar fits a 390 px phone for every role of the demo district: the page never scrolls
sideways, every menu item reads on one line, the menu is one row that scrolls by itself (with the
current page's item in view), and each item reached by Tab is shown whole."""
from __future__ import annotations

import pytest
from support.browser import DEMO_LOGINS, DESKTOP, PHONE

pytestmark = pytest.mark.demo_district

MEASURE = """
() => {
  const bar = document.querySelector('header.topbar');
  const row = document.querySelector('.mainnav ul');
  const box = row.getBoundingClientRect();
  const items = Array.from(row.querySelectorAll('a')).map(a => {
    const r = a.getBoundingClientRect();
    return {text: a.textContent.trim(), lines: a.getClientRects().length, height: r.height,
            whole: r.left >= box.left - 1 && r.right <= box.right + 1, current: a.getAttribute('aria-current') === 'page'};
  });
  return {page: document.documentElement.scrollWidth, bar: bar.getBoundingClientRect().height,
          rowScrolls: row.scrollWidth > row.clientWidth, items};
}
"""


def test_the_top_bar_fits_a_phone_for_every_role(live_app, live_server, new_context, guard, sign_in, shoot):
    phone = guard.watch(new_context(viewport=PHONE).new_page())
    desktop = guard.watch(new_context(viewport=DESKTOP).new_page())
    for username in DEMO_LOGINS:
        sign_in(desktop, username)
        wide = desktop.evaluate(MEASURE)
        assert all(i["lines"] == 1 and i["height"] < 44 for i in wide["items"]), (username, wide)
        assert wide["bar"] < 140, (username, wide["bar"])  # a row, or two when a role has many pages
        shoot(desktop, f"topbar-{username}-desktop")

        sign_in(phone, username)
        narrow = phone.evaluate(MEASURE)
        assert narrow["page"] <= PHONE["width"], (username, "the page scrolls sideways")
        assert all(i["lines"] == 1 and i["height"] < 44 for i in narrow["items"]), (username, narrow)
        assert narrow["bar"] < 150, (username, narrow["bar"])  # brand and tools, then the menu row
        assert [i["whole"] for i in narrow["items"] if i["current"]] == [True], (username, narrow)
        shoot(phone, f"topbar-{username}-phone")

        # the last item, reached by keyboard, scrolls into view in the menu's row
        items = phone.locator(".mainnav a")
        items.nth(items.count() - 2).focus()
        phone.keyboard.press("Tab")
        assert phone.evaluate("document.activeElement.textContent.trim()") == narrow["items"][-1]["text"]
        after = phone.evaluate(MEASURE)
        assert after["items"][-1]["whole"], (username, after)
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_current_page_starts_in_view_on_a_phone(live_app, live_server, new_context, guard, sign_in, shoot):
    phone = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(phone, "office1")
    last = phone.locator(".mainnav a").last
    href = last.get_attribute("href")
    phone.goto(f"{live_server}{href}")
    measured = phone.evaluate(MEASURE)
    assert measured["items"][-1]["current"] and measured["items"][-1]["whole"], measured
    shoot(phone, "topbar-office1-phone-last-item")
