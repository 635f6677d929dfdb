"""Nothing on a Chinese page is English: every page reachable by links is walked as each role of the
demo district, in Chinese, and each page's texts are held to the rule in tests/support/chinese.py.

The walk crawls (it names no page): from the inbox, breadth first, every same-origin link the pages
show and the filter forms as they stand, GET only, never logout, exports or file downloads; two
pages of a record's shape (/cases/3 and /cases/4 are one shape), one of any other, at most
PAGES_PER_ROLE pages a role. Pages added later are found the same way, as soon as some page links
to them. The login page and the error pages (404, 403, 405) are walked too. The walk is on a
390 px phone, and a page that scrolls sideways there fails it as well.
"""
from __future__ import annotations

from collections import deque

import pytest
from sqlalchemy import select
from support.browser import DEMO_LOGINS, DESKTOP, PHONE
from support.chinese import COLLECT, findings, page_pattern, same_origin_links

from service.models import User

pytestmark = pytest.mark.demo_district

PAGES_PER_ROLE = 80


def samples(shape: str) -> int:
    """Pages walked of one shape: two of a record's page (a self-check and a rectification task, two
    cases, ...), one of a list and of each of its filtered views."""
    return 2 if "#" in shape.split("?")[0] else 1


ERROR_PAGES = {"/no-such-page": 404, "/admin/users": 403, "/logout": 405}


def walk(page, origin: str, names: frozenset[str]) -> tuple[list[str], dict[str, list[str]]]:
    """The page shapes walked from the inbox, and the English found on each page (and, as the walk
    is on a phone, each page that scrolls sideways)."""
    queue = deque([f"{origin}/inbox"])
    seen: dict[str, int] = {}
    visited: set[str] = set()
    walked: list[str] = []
    found: dict[str, list[str]] = {}
    while queue and len(walked) < PAGES_PER_ROLE:
        url = queue.popleft()
        shape = page_pattern(url)
        if seen.get(shape, 0) >= samples(shape) or url in visited:
            continue
        seen[shape] = seen.get(shape, 0) + 1
        visited.add(url)
        response = page.goto(url)
        if response is None or not response.headers.get("content-type", "").startswith("text/html"):
            continue
        page.wait_for_load_state("load")
        walked.append(shape)  # a shape twice when two pages of it were walked
        collected = page.evaluate(COLLECT)
        bad = findings(collected, names)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > page.viewport_size["width"]:
            bad.append(f"(the page is {width} px wide: it scrolls sideways on the phone)")
        if bad:
            found[url[len(origin):]] = bad
        queue.extend(u for u in same_origin_links(origin, page.url, collected["links"])
                     if seen.get(page_pattern(u), 0) < samples(page_pattern(u)) and u not in visited)
    return walked, found


def test_every_page_of_every_role_is_chinese(live_app, live_server, new_context, guard, sign_in):
    ctx = live_app.extensions["rectiflow"]
    with ctx.db.read() as s:
        names = frozenset(s.scalars(select(User.username)))
    page = guard.watch(new_context(viewport=PHONE).new_page())  # phones are where pages go wrong first
    english: dict[str, dict[str, list[str]]] = {}
    shapes: set[str] = set()
    for username in DEMO_LOGINS:
        sign_in(page, username)
        walked, found = walk(page, live_server, names)
        assert len(walked) > 2, f"{username} reached {walked} only"
        shapes.update(walked)
        if found:
            english[username] = found
    where: dict[str, list[str]] = {}  # each text once, with the first pages it was on
    for user, pages in english.items():
        for path, texts in pages.items():
            for text in texts:
                where.setdefault(text, []).append(f"{user} {path}")
    assert english == {}, "English on Chinese pages:\n" + "\n".join(
        f"{text}   on {', '.join(on[:3])}{' …' if len(on) > 3 else ''}" for text, on in where.items())
    # the walk reaches the pages of every part of the service, not just the inbox
    for shape in ("/inbox", "/done", "/designer/", "/dashboard/", "/audit/", "/admin/users"):
        assert shape in shapes, f"no role reached {shape}: {sorted(shapes)}"


def test_the_login_page_and_the_error_pages_are_chinese(live_app, live_server, new_context, guard, sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    with ctx.db.read() as s:
        names = frozenset(s.scalars(select(User.username)))
    for viewport, size in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = guard.watch(new_context(viewport=viewport).new_page())
        page.goto(f"{live_server}/login")  # the one page before a login
        assert findings(page.evaluate(COLLECT), names) == [], "/login"
        sign_in(page, "c01_liaison")
        for path, status in ERROR_PAGES.items():
            response = page.goto(f"{live_server}{path}")
            assert response is not None and response.status == status, path
            assert findings(page.evaluate(COLLECT), names) == [], path
            shoot(page, f"error-{status}-{size}")
