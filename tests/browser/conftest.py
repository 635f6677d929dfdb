"""Browser tests: the app served on 127.0.0.1 by werkzeug in a thread, driven by Debian's
Chromium through Playwright. Playwright never downloads a browser here: the tests use
/usr/bin/chromium-headless-shell, or /usr/bin/chromium without it (scripts/ensure-services installs
both), and are skipped, saying why, without either.
Chromium reaches nothing but the loopback address: every other request goes to a proxy that is not
there, fails, and is recorded; a test fails if there was one, so no page may load a script, style
or font from outside the service. Likewise every Content-Security-Policy violation a page reports,
and every page the live server sent without the policy: the pages must work under the policy they
are sent. None of this intercepts requests, so Chromium's cache works as it does for people.
"""
from __future__ import annotations

import copy
import os
import threading
from pathlib import Path

import pytest
from support.browser import DESKTOP
from werkzeug.serving import WSGIRequestHandler, make_server

# Debian's headless shell, the build Playwright runs headless pages in: the same Blink, without the
# full browser's window and toolbar, at half the processor time; the full browser if it is missing
CHROMIUM = next((path for path in (Path("/usr/bin/chromium-headless-shell"), Path("/usr/bin/chromium"))
                 if path.exists()), None)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--lang=zh-CN",
                 # Chromium never proxies the loopback address; anything else goes to the discard
                 # port, where nothing listens (Playwright's own proxy option would proxy loopback too)
                 "--proxy-server=http://127.0.0.1:9"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed at /usr/bin (scripts/ensure-services installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[test])")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class _QuietHandler(WSGIRequestHandler):
    def log(self, *args, **kwargs):  # the test output is not the place for an access log
        pass


def pytest_configure(config):
    config.addinivalue_line("markers", "demo_district: the live server serves the demo district (seed-demo)")


@pytest.fixture
def live_app(request, app_over, tmp_path, sqlite_district_seed):
    """The application on a SQLite file (threads share it), with a small district; for a test marked
    demo_district, on a copy of the demo district instead (seeded once per test process). Pages
    showing background work ask for its progress every 0.2 s, not every 2 s: the tests wait less."""
    if request.node.get_closest_marker("demo_district"):
        with app_over(request.getfixturevalue("demo_database_url")) as app:
            app.config["RECTIFLOW_PROGRESS_POLL_SECONDS"] = 0.2
            yield app
        return
    folder = tmp_path / "live"  # beside, not in place of, a test's own database
    folder.mkdir()
    with sqlite_district_seed.template.copy(folder) as url, app_over(url) as app:
        app.config["RECTIFLOW_PROGRESS_POLL_SECONDS"] = 0.2
        app.district = copy.deepcopy(sqlite_district_seed.district)
        yield app
        del app.district


@pytest.fixture
def unprotected_pages() -> list[str]:
    """Pages the live server sent without the Content-Security-Policy."""
    return []


@pytest.fixture
def live_server(live_app, unprotected_pages):
    def checked(environ, start_response):
        def start(status, headers, exc_info=None):
            named = {k.lower(): v for k, v in headers}
            if named.get("content-type", "").startswith("text/html") and \
                    "default-src 'self'" not in named.get("content-security-policy", ""):
                unprotected_pages.append(f"{status} {environ['PATH_INFO']}")
            return start_response(status, headers, exc_info)
        return live_app(environ, start)

    server = make_server("127.0.0.1", 0, checked, threaded=True, request_handler=_QuietHandler)
    # shutdown() waits for the serving loop to look again: every 50 ms, not the default 0.5 s
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


# Reports every Content-Security-Policy violation of a page (and of its frames) to the test, as it
# happens: what was blocked, by which directive, from where.
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', function (e) {
  window.rfCspViolation([e.effectiveDirective, e.blockedURI || '-', e.disposition,
    (e.sourceFile || e.documentURI) + ':' + e.lineNumber, e.sample].join(' '));
}, true);
"""


class Guard:
    """Records every request that did not stay on the live server, page errors, and
    Content-Security-Policy violations (from the page's own event and from the console)."""

    def __init__(self, origin: str):
        self.origin = origin
        self.blocked: list[str] = []
        self.page_errors: list[str] = []
        self.csp_violations: list[str] = []
        self.pages: list = []

    def attach(self, context):
        context.expose_function("rfCspViolation", self.csp_violation)
        context.add_init_script(CSP_LISTENER)
        context.on("console", self.console)
        context.on("requestfailed", self.request_failed)
        return context

    def request_failed(self, request):
        url = request.url
        if not (url == self.origin or url.startswith(self.origin + "/")):
            self.blocked.append(url)

    def csp_violation(self, report: str) -> None:
        self.csp_violations.append(report)

    def console(self, message):
        if "Content Security Policy" in message.text:
            self.csp_violations.append(f"console: {message.text}")

    def watch(self, page):
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        self.pages.append(page)
        return page

    def describe(self) -> list[tuple[str, str]]:
        """What each open page showed: its address and its text, for the report of a failed test."""
        shown = []
        for page in self.pages:
            if not page.is_closed():
                try:
                    text = page.locator("body").inner_text(timeout=2000)
                except Exception as exc:  # the page may be half-way through a navigation
                    text = f"(no text: {exc})"
                shown.append((f"page {page.url}", text[:2000]))
        return shown


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    guard = getattr(item, "funcargs", {}).get("guard")
    if report.when == "call" and report.failed and isinstance(guard, Guard):
        for title, text in guard.describe():
            report.sections.append((title, text))
    return report


@pytest.fixture
def guard(live_server, unprotected_pages):
    g = Guard(live_server)
    yield g
    assert g.blocked == [], f"requests outside the service: {g.blocked}"
    assert g.page_errors == [], f"script errors on the pages: {g.page_errors}"
    assert g.csp_violations == [], f"Content-Security-Policy violations: {g.csp_violations}"
    assert unprotected_pages == [], f"pages without the Content-Security-Policy: {unprotected_pages}"


@pytest.fixture
def new_context(browser, guard):
    """Browser contexts (a desktop by default) whose every request passes the guard."""
    made = []

    def make(viewport=DESKTOP, **kw):
        context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai", **kw)
        guard.attach(context)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def sign_in(live_app, live_server):
    """Open a page as someone, their session set directly: the login form and the logout button have
    tests of their own (the keyboard walk, the policy walk), so the other tests skip the round trips."""
    from support.district import user_id  # it imports the application, which the test processes load

    ctx = live_app.extensions["rectiflow"]
    signer = live_app.session_interface.get_signing_serializer(live_app)
    cookie = live_app.config["SESSION_COOKIE_NAME"]

    def open_as(page, username: str, path: str = "/inbox") -> None:
        page.context.clear_cookies()
        page.context.add_cookies([{"name": cookie, "value": signer.dumps({"uid": user_id(ctx, username)}),
                                   "url": live_server}])
        page.goto(f"{live_server}{path}")

    return open_as


@pytest.fixture(scope="session")
def shoot():
    """Screenshots of the pages the tests walk, for people to look at (test-artifacts/screenshots),
    taken only when RECTIFLOW_SCREENSHOTS is set: the tests assert what they check without them."""
    wanted = bool(os.environ.get("RECTIFLOW_SCREENSHOTS"))
    if wanted:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, full_page: bool = False) -> None:
        if wanted:
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return take
