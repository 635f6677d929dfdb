"""The web application: server-rendered pages for people; the JSON API under /api/v1 is for programs.

The `web` blueprint holds most pages (its modules register their routes on it, as the API's
modules do); the designer, the instance view, the dashboard, the administrators' pages and the
audit log have blueprints of their own.
`create_app` registers all of them once (`PAGE_BLUEPRINTS`), then `init_app` gives every page the
same login check, CSRF protection, translations and session settings; errors become pages in
`page_error`, which the application's one error handler calls.

Shared helpers for page modules: `ctx()`, `principal()`, the gettext calls
`_()` / `ngettext()` / `pgettext()` and `tc()` (see `i18n`), `safe_next()`, `fmt_time()`, `fmt_size()`,
`html_error()`.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

from .. import access, totp
from .. import notices as message_centre
from ..auth import Principal, load_principal
from ..context import Context
from . import assets, i18n
from .i18n import _, get_language, label, ngettext, pgettext, tc

bp: Blueprint = Blueprint("web", __name__)
csrf = CSRFProtect()
log = logging.getLogger(__name__)

# Pages anyone may open without logging in.
PUBLIC_ENDPOINTS = {"web.login", "web.set_language"}
# What an account that must enrol a second factor may still open before it has one.
ENROLMENT_ENDPOINTS = {*PUBLIC_ENDPOINTS, "web.totp", "web.totp_start", "web.totp_confirm", "web.logout"}
# What an account with a temporary password (created, or reset, by an administrator) may still open.
PASSWORD_CHANGE_ENDPOINTS = {*PUBLIC_ENDPOINTS, "web.password", "web.logout"}
# A session's last use is noted to within this much: most requests then leave the session as it was,
# and an unchanged session is sent back only to pages the browser opens (_PageSessions).
SEEN_PRECISION_SECONDS = 60


def ctx() -> Context:
    return current_app.extensions["rectiflow"]


def principal() -> Principal:
    """The logged-in user of this request (pages behind the login check always have one)."""
    return g.principal


def _load_principal():
    """Load the session's user on every page (of every page blueprint), so a disabled account is
    out at its next click; anyone not logged in goes to the login page, and anyone whose role needs
    a second factor they have not set up goes to the page that sets it up (`totp.enrolment_required`).
    A session unused for RECTIFLOW_SESSION_IDLE_MINUTES (by the service's clock) ends there, and the
    login page says why.
    The API authenticates by token instead, and static files need no one."""
    if request.blueprint in (None, "api", "public") or request.endpoint in (None, "static"):
        return None  # the residents' pages (public) need no one either
    g.principal = None
    must_enrol = must_change = False
    user_id = session.get("uid")
    idle = False
    if user_id is not None:
        c = ctx()
        now = int(c.now().timestamp())
        idle = now - session.get("seen", now) > c.settings.session_idle_minutes * 60
        if not idle:
            with c.db.read() as s:
                g.principal = load_principal(s, user_id, session.get("epoch", 0))
                must_change = (g.principal is not None and g.principal.must_change_password
                               and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS)
                # a temporary password is replaced before a second factor is set up
                must_enrol = (g.principal is not None and not g.principal.must_change_password
                              and request.endpoint not in ENROLMENT_ENDPOINTS
                              and totp.enrolment_required(s, g.principal, c.settings))
        if g.principal is None:
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
        else:
            # the session's last use, for RECTIFLOW_SESSION_IDLE_MINUTES
            if now - session.get("seen", 0) >= SEEN_PRECISION_SECONDS:
                session["seen"] = now
    if idle:
        flash(_("You were logged out after a long time without activity. Please log in again."), "info")
    if g.principal is None and request.endpoint not in PUBLIC_ENDPOINTS:
        if _made_by_script():
            return _("Please log in first."), 401
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    if must_change:
        if _made_by_script():
            from .problems import error_text

            return error_text("password_change_required"), 403, {"Content-Type": "text/plain; charset=utf-8"}
        return redirect(url_for("web.password"))
    if must_enrol:
        if _made_by_script():
            from .problems import error_text

            return error_text("totp_enrolment_required"), 403, {"Content-Type": "text/plain; charset=utf-8"}
        return redirect(url_for("web.totp"))
    return None


def _made_by_script() -> bool:
    """A request a page's script made (htmx, or an XHR that says so), answered with text, not a page."""
    return bool(request.headers.get("HX-Request")) or request.headers.get("X-Requested-With") == "XMLHttpRequest"


class _PageSessions(SecureCookieSessionInterface):
    """The signed session cookie (which also holds the CSRF token and the language), sent with
    Secure when the request came over https, directly or through a trusted proxy, or always with
    RECTIFLOW_SECURE_COOKIES=1; over plain http (the demo) it could not come back otherwise."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or request.is_secure or ctx_settings(app).secure_cookies)

    def should_set_cookie(self, app: Flask, session) -> bool:
        """A session that changed is always sent; an unchanged one is sent again, to push its expiry
        on, only in answer to a page opened by the browser. A request a page makes itself (an htmx
        fragment, a script's fetch, a style or script file) often runs beside a form's post, and a
        cookie it brought back as the session was before the post would undo what the post stored
        there: its flash message, a login, the language."""
        if session.modified:
            return True
        made_by_page = _made_by_script() or request.headers.get("Sec-Fetch-Mode", "navigate") != "navigate"
        return not made_by_page and super().should_set_cookie(app, session)


def page_number() -> int:
    """The list page asked for (`?page=`), 1 for anything that is not a page number."""
    return max(request.args.get("page", 1, type=int) or 1, 1)


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths, so a crafted link cannot bounce a user to another host after login."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# ------------------------------------------------------------------ formatting
def fmt_time(when: datetime | None, with_time: bool = True) -> str:
    """A moment in the configured zone (RECTIFLOW_TIMEZONE), formatted by Babel: 2026-11-20 10:00."""
    return i18n.fmt_datetime(when, with_time)


def fmt_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def due_info(due_at: datetime | None, now: datetime) -> dict:
    """How urgent a due date is, in whole local days: for the badge beside every due date."""
    if due_at is None:
        return {"text": _("No deadline"), "level": "none", "date": ""}
    zone = ctx().zone
    days = (due_at.astimezone(zone).date() - now.astimezone(zone).date()).days
    if due_at < now:
        text = ngettext("%(num)d day overdue", "%(num)d days overdue", -days) if days < 0 else _("Due today")
        level = "overdue"
    elif days == 0:
        text, level = _("Due today"), "soon"
    else:
        text, level = ngettext("%(num)d day left", "%(num)d days left", days), "soon" if days <= 7 else "ok"
    return {"text": text, "level": level, "date": fmt_time(due_at)}


# ------------------------------------------------------------------ errors
def html_error(status: int, detail: str | None = None, title: str | None = None):
    """An error as a page of the application (the API keeps its problem+json)."""
    heading = title or (label("error", status) if status in i18n.LABELS["error"] else _("Something went wrong"))
    if _made_by_script():
        return heading + (f": {detail}" if detail else ""), status, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("error.html", status=status, heading=heading, detail=detail), status


def page_error(exc: BaseException, body: dict):
    """What a page request gets for an error (the app's one error handler calls this; the API keeps
    its problem+json): a page in the reader's language, plain text for a script or htmx, or, for
    the designer's JSON calls, problem+json with its refusals worded for the page."""
    from .decisions import JSON_ENDPOINTS as DECISION_ENDPOINTS
    from .designer import JSON_ENDPOINTS
    from .problems import deploy_errors, error_text

    status = body["status"]
    if request.endpoint in JSON_ENDPOINTS | DECISION_ENDPOINTS:
        body = dict(body, detail=error_text(body["code"], fallback=body["detail"]))
        if body.get("errors"):
            body["errors"] = deploy_errors(body["errors"])
        return body, status, {"Content-Type": "application/problem+json"}
    if isinstance(exc, CSRFError):
        detail = _("The page has expired; reload it and try again.")
    elif status >= 500:
        detail = None
    elif "retry_after" in body:  # over a rate limit (service.limits); the answer carries Retry-After
        if request.endpoint == "web.login":
            from .auth import login_refused

            return login_refused(error_text(body["code"], {"seconds": body["retry_after"]}), status)
        detail = _("Try again in %(seconds)s seconds.", seconds=body["retry_after"])
    else:
        detail = error_text(body["code"], getattr(exc, "params", None), fallback=None)
    return html_error(status, detail)


# ------------------------------------------------------------------ templates
def _nav() -> list[dict]:
    """The main navigation: only the pages this user can use, and only pages that exist."""
    p = g.get("principal")
    if p is None:
        return []
    items = [("web.inbox", pgettext("menu", "Inbox"), None), ("web.done", pgettext("menu", "Done"), None),
             ("web.rounds", _("Rounds"), access.ROUND_WORKERS),
             ("designer.index", _("Process designer"), access.DESIGN_READERS),
             ("dashboard.index", _("Dashboard"), access.DASHBOARD_READERS),
             ("instances.index", _("Processes"), access.INSTANCE_WATCHERS),
             ("admin.users", _("Accounts and roles"), access.ROLE_KEEPERS),
             ("admin.changes", _("Role changes"), access.ROLE_KEEPERS),
             ("admin.units", _("Unit administration"), access.ADMINISTRATORS),
             ("admin.org_import_page", _("Import organisation"), access.ADMINISTRATORS),
             ("audit.index", _("Audit log"), access.AUDIT_READERS),
             ("web.leader_notices", _("Portfolio notices"), ("leader",)),
             ("web.governed_cases", _("Governed cases"), access.COMMENTERS),
             ("library.clues_index", _("Clue library"), access.CLUE_READERS),
             ("library.inspectors", pgettext("menu", "Pools"), access.POOL_KEEPERS),  # both pools link each other
             ("library.findings", _("Audit findings"), access.AUDIT_FINDING_READERS),
             ("web.resident_reports", _("Residents' reports"), access.RESIDENT_TRIAGERS)]
    nav = []
    for endpoint, text, roles in items:
        if endpoint not in current_app.view_functions or (roles and not p.has(*roles)):
            continue
        url = url_for(endpoint)
        nav.append({"url": url, "label": text, "endpoint": endpoint,
                    "current": request.endpoint == endpoint or (len(url) > 1 and request.path.startswith(url))})
    return nav


def _template_context() -> dict:
    return {"lang": get_language(), "principal": g.get("principal"), "nav": _nav(),
            "unread_notices": _unread_notices()}


def _unread_notices() -> int | None:
    """The logged-in user's unread messages, for the badge in the top bar."""
    p = g.get("principal")
    if p is None:
        return None
    try:
        with ctx().db.read() as s:
            return message_centre.unread_count(s, p)
    except SQLAlchemyError:  # an error page while the database is away still renders
        return None


def init_app(app: Flask) -> None:
    """What every page shares, once the blueprints are registered: the login check, CSRF protection
    (not for the token-authenticated API), translations, session settings and template globals."""
    app.session_interface = _PageSessions()
    # Flask has defaults for these (SameSite unset, 31 days), so they are set, not defaulted
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=ctx_settings(app).token_hours))
    # A token lives as long as the session: a long form must not expire while someone types.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config.setdefault("WTF_CSRF_HEADERS", ["X-CSRFToken"])
    # How often a page showing background work (a publication, a migration) asks for its progress
    app.config.setdefault("RECTIFLOW_PROGRESS_POLL_SECONDS", 2)
    csrf.init_app(app)
    i18n.init_app(app)  # gettext in templates: _(), ngettext(), pgettext()
    assets.init_app(app)  # static URLs carry their content's hash and are cached for good
    csrf.exempt(app.blueprints["api"])  # the API authenticates each request by token, not by cookie
    app.before_request(_load_principal)
    # globals rather than context: macros imported from other templates see them too
    app.jinja_env.globals.update(tc=tc, label=label, fmt_time=fmt_time, fmt_size=fmt_size)
    app.context_processor(_template_context)


def ctx_settings(app: Flask):
    return app.extensions["rectiflow"].settings


# the modules whose routes register on bp, and those with blueprints of their own
from . import (  # noqa: E402,F401
    admin,
    audit,
    auth,
    dashboard,
    decisions,
    designer,
    events,
    extensions,
    inbox,
    instances,
    library,
    migration,
    notices,
    public,
    residents,
    rounds,
    tasks,
)

PAGE_BLUEPRINTS = (bp, designer.bp, instances.bp, dashboard.bp, admin.bp, audit.bp, library.bp, public.bp)
