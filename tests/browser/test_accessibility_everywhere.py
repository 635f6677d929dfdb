"""WCAG 2.1 AA on every page as every role: axe-core (tags wcag2a, wcag2aa, wcag21a, wcag21aa) finds
no violation on any page a role of the demo district reaches by links, on a desktop (1366x768) and
on a phone (390x844).

The pages are found as the Chinese walk finds them (tests/browser/test_chinese_everywhere.py): from
the inbox, breadth first, every same-origin link and GET filter form, never logout, exports or
downloads; one page of each shape a role (/cases/3 stands for every case), at most PAGES_PER_ROLE.
The demo district has rounds in every state, letters, notices, clues, audit findings and deployed
diagrams, so the pages have their real content. One browser, one context per role and width, one
login each; each page the desktop walk finds is opened on the phone too, and axe runs on both at
once. Pages with a script that draws (dashboard, diagrams) are checked once it has drawn. Markup
checked already at a width (the frame a role sees on each page, or the same <main> that several
roles see) is not checked again: the same markup gives axe the same answer.
"""
from __future__ import annotations

import hashlib
from collections import deque

import pytest
from support.axe import finish, start
from support.browser import DEMO_LOGINS, DESKTOP, PHONE
from support.chinese import COLLECT, page_pattern, same_origin_links

pytestmark = pytest.mark.demo_district

PAGES_PER_ROLE = 60
# every role of DESIGN.md: the demo's logins (README) and its auditor (巡审结合)
LOGINS = DEMO_LOGINS + ("shenji1",)
DRAWN = "() => Array.from(document.querySelectorAll('[data-ready]')).every(e => e.dataset.ready === 'true')"
# the page's markup in two parts, the frame (top bar, navigation) and <main>, without what differs on
# every load (the CSRF token): axe finds the same in the same markup at the same width, so markup
# already checked is not checked again (the frame of a role is on each of its pages, the same
# <main> is what several roles see of a list, their account, ...)
MARKUP = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('input[name=csrf_token]').forEach(e => e.removeAttribute('value'));
  const main = body.querySelector('main');
  const inner = main ? main.outerHTML : '';
  if (main) main.replaceWith(document.createElement('main'));
  return [body.outerHTML, inner];
}"""


class Checker:
    """axe on one page of a role at one width, started and then finished, so that the desktop's page
    and the phone's are checked at once; what it found, by violation, with where."""

    def __init__(self, page, where: str, origin: str, found: dict[str, list[str]], seen: set[str]):
        self.page, self.where, self.origin, self.found, self.seen = page, where, origin, found, seen
        self.running = ""

    def open(self, url: str) -> bool:
        """Open a page and start axe on it unless its markup was checked already; False if not HTML."""
        response = self.page.goto(url)
        if response is None or not response.headers.get("content-type", "").startswith("text/html"):
            return False
        self.page.wait_for_load_state("load")
        if self.page.locator("#rf-dashboard, #rf-instance, #rf-designer").count():
            self.page.wait_for_function(DRAWN, timeout=15_000)
        width = self.page.viewport_size["width"]
        parts = {f"{width}:{n}:" + hashlib.sha256(p.encode()).hexdigest()
                 for n, p in enumerate(self.page.evaluate(MARKUP))}
        self.running = ""
        if not parts <= self.seen:
            self.seen.update(parts)
            self.running = url[len(self.origin):]
            start(self.page)
        return True

    def finish(self) -> None:
        if self.running:
            for line in finish(self.page):
                self.found.setdefault(line, []).append(f"{self.where} {self.running}")
        self.running = ""


def test_axe_finds_no_violation_on_any_page_of_any_role(live_app, live_server, new_context, guard, sign_in):
    found: dict[str, list[str]] = {}  # violation -> where (role, width, page)
    seen: set[str] = set()
    reached: set[str] = set()
    checked = 0
    for username in LOGINS:
        desktop_page = guard.watch(new_context(viewport=DESKTOP).new_page())
        sign_in(desktop_page, username)
        phone_page = guard.watch(new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                             storage_state=desktop_page.context.storage_state()).new_page())
        desktop = Checker(desktop_page, f"{username}@1366", live_server, found, seen)
        phone = Checker(phone_page, f"{username}@390", live_server, found, seen)
        queue = deque([f"{live_server}/inbox"])
        shapes: set[str] = set()
        walked = 0
        while queue and walked < PAGES_PER_ROLE:
            url = queue.popleft()
            shape = page_pattern(url)
            if shape in shapes:
                continue
            shapes.add(shape)
            if not desktop.open(url):
                continue
            walked += 1
            reached.add(shape)
            links = same_origin_links(live_server, desktop_page.url, desktop_page.evaluate(COLLECT)["links"])
            queue.extend(u for u in links if page_pattern(u) not in shapes)
            phone.open(url)
            checked += bool(desktop.running) + bool(phone.running)
            desktop.finish()
            phone.finish()
        assert walked > 2, f"{username} reached {sorted(shapes)} only"
        desktop_page.context.close()
        phone_page.context.close()
    print(f"{checked} page checks, {len(reached)} page shapes")
    assert found == {}, f"{len(found)} axe violations:\n" + "\n".join(
        f"{line}\n    on {', '.join(on[:4])}{f' and {len(on) - 4} more' if len(on) > 4 else ''}"
        for line, on in found.items())
    # the walk reaches every part of the service, not just the inbox
    for shape in ("/inbox", "/done", "/designer/", "/dashboard/", "/audit/", "/admin/users", "/instances/#"):
        assert shape in reached, f"no role reached {shape}: {sorted(reached)}"


def test_the_walk_would_see_a_violation(live_app, live_server, new_context, guard, sign_in):
    """The check itself: a field without a label, put on a page, is reported with where it was."""
    found: dict[str, list[str]] = {}
    page = guard.watch(new_context().new_page())
    sign_in(page, "office1")
    checker = Checker(page, "office1@1366", live_server, found, set())
    assert checker.open(f"{live_server}/inbox")
    finish(page)
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input id=unlabelled>')")
    start(page)
    checker.running = "/inbox"
    checker.finish()
    assert [line.split(" (")[0] for line in found] == ["label"], found
    assert found[next(iter(found))] == ["office1@1366 /inbox"]
