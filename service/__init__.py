"""rectiflow: the Flask service for the inspection common-problem rectification mechanism."""
from __future__ import annotations

import base64
import hashlib

from flask import Flask, make_response, request
from flask.json.provider import DefaultJSONProvider
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings
from workflows.clock import Clock

from . import limits, schema
from .context import deploy_default_models, make_context
from .errors import BadRequest, NotFound, as_problem, problem
from .validation import MAX_INT, MAX_JSON_DEPTH, bad_text, check_value, json_depth
from .web import ctx_settings, page_error, transfer


class _Utf8Json(DefaultJSONProvider):
    ensure_ascii = False


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    transfer.init_app(app)  # first registered, so its after_request runs last: compression, ETags
    settings.require_audit_key()  # nothing is recorded unsealed
    app.config.update(SECRET_KEY=settings.require_secret_key(),
                      MAX_CONTENT_LENGTH=(settings.max_upload_mb + 1) * 1024 * 1024)
    app.json = _Utf8Json(app)  # Chinese as itself in JSON, not \uXXXX escapes
    app.wsgi_app = _TrustedProxies(app)  # type: ignore[method-assign]
    ctx = make_context(settings, clock)
    try:
        schema.prepare(ctx.db.engine, may_upgrade=settings.schema_upgrade)
    except schema.SchemaError:
        ctx.db.engine.dispose()  # the process stops here; its connections go with it
        raise
    deploy_default_models(ctx)
    app.extensions["rectiflow"] = ctx

    from .api import bp as api_bp
    from .web import PAGE_BLUEPRINTS
    from .web import init_app as init_pages

    for blueprint in (api_bp, *PAGE_BLUEPRINTS):
        app.register_blueprint(blueprint)
    init_pages(app)
    _register_errors(app)
    _register_guards(app)
    limits.init_app(app, settings)  # after the guards: a limit keyed by a field reads checked input
    return app


class _TrustedProxies:
    """werkzeug's ProxyFix for as many proxies as RECTIFLOW_TRUSTED_PROXIES trusts (x_for, x_proto):
    behind nginx, request.remote_addr is the client's address and request.is_secure tells whether
    the client used https. With none trusted, X-Forwarded-* headers are ignored (anyone can send
    them). The number is read from the settings at each request."""

    def __init__(self, app: Flask) -> None:
        self.app, self.direct = app, app.wsgi_app
        self.fixed: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        trusted = ctx_settings(self.app).trusted_proxies
        if not trusted:
            return self.direct(environ, start_response)
        if trusted not in self.fixed:
            self.fixed[trusted] = ProxyFix(self.direct, x_for=trusted, x_proto=trusted)
        return self.fixed[trusted](environ, start_response)


# The style attributes of the bpmn.io watermark that dmn-js writes as markup (dmn-js-shared's
# PoweredByUtil, which its licence forbids changing): the link in the editor's corner, its logo and
# the notice it opens. The policy allows exactly these values, by hash.
DMN_WATERMARK_STYLES = (
    "position: absolute; bottom: 15px; right: 15px; z-index: 100;",
    "vertical-align:middle",
    "z-index: 1001;position: fixed;top: 0;left: 0;right: 0;bottom: 0",
    "width: 100%;height: 100%;background: rgba(40,40,40,0.2)",
    "position: absolute;left: 50%;top: 40%;transform: translate(-50%);width: 260px;padding: 10px;"
    "background: white;box-shadow: 0 1px 4px rgba(0,0,0,0.3);font-family: Helvetica, Arial, sans-serif;"
    "font-size: 14px;display: flex;line-height: 1.3",
    "margin: 15px 20px 15px 10px; align-self: center;",
)


def _style_hash(value: str) -> str:
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()


# The Content-Security-Policy of every HTML page (pages, error pages, login). Everything a page uses
# is served by the service itself: no CDN, no inline script (the pages' configuration is data in
# <script type="application/json">), no eval (htmx's js:/hx-on and Alpine are not used).
PAGE_CSP = "; ".join((
    "default-src 'self'",  # scripts, stylesheets, fonts, XHR/fetch: this origin only
    "object-src 'none'",  # no plugins
    "base-uri 'self'",  # an injected <base> cannot redirect relative URLs
    "form-action 'self'",  # forms post to the service only
    "frame-ancestors 'none'",  # no page inside another site's frame (as X-Frame-Options: DENY)
    # data: images: bpmn-js.css draws the breadcrumb separator of a drilled-down sub-process and
    # properties-panel.css the tick of a checked checkbox as data:image/svg+xml; base.html's
    # favicon is the empty data:, (so that browsers do not ask for /favicon.ico)
    "img-src 'self' data:",
    # <style> elements: none (htmx's indicator style is switched off in base.html)
    "style-src 'self'",
    # style attributes: bpmn-js, diagram-js and ECharts set styles through the CSSOM, which the
    # policy does not govern, but bpmn-js-properties-panel parses two containers from markup with
    # style attributes (BpmnPropertiesPanelRenderer): exactly those two are allowed, by the sha256
    # of "height: 100%" and of "flex: none; height: auto". ECharts' HTML tooltips would need any
    # style attribute, so the dashboard draws them on the canvas.
    "style-src-attr 'unsafe-hashes' 'sha256-nR5hyLltSjfvi2rqC26RbcredWrJvTaPA1yqPX96jpY=' "
    "'sha256-LIWyuNLBDBQuKJLr4mOx2cFEzHX9lM0BrbfcAAzCvSU=' " + " ".join(map(_style_hash, DMN_WATERMARK_STYLES)),
))


def _register_guards(app: Flask) -> None:
    @app.before_request
    def _storable_input() -> None:
        """Ids, query and form text the databases cannot hold, and JSON nested past any real body,
        are refused here, for every page and endpoint."""
        for name, value in (request.view_args or {}).items():
            if (isinstance(value, int) and value > MAX_INT) or (isinstance(value, str) and bad_text(value)):
                raise NotFound(f"no {name.removesuffix('_id')} {value!r}")
        problems = [p for key, value in request.args.items(multi=True)
                    for p in check_value(key, key) + check_value(value, key)]
        if request.form:
            problems += [p for key, value in request.form.items(multi=True) for p in check_value(value, key)]
        if problems:
            raise BadRequest("some fields cannot be stored", problems, code="unstorable_input")
        if request.is_json:
            try:
                data = request.get_json(silent=True)  # parsed once: the view reads Flask's cached copy
            except RecursionError:
                data, too_deep = None, True
            else:
                too_deep = json_depth(data) > MAX_JSON_DEPTH
            if too_deep:
                raise BadRequest(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels", code="json_too_deep",
                                 limit=MAX_JSON_DEPTH)

    @app.after_request
    def _safe_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:  # browsers keep to https for a year (HSTS is ignored over http)
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype in ("application/xml", "text/xml"):
            # uploaded BPMN: never let a browser run what a diagram carries (XHTML script elements)
            response.headers["Content-Security-Policy"] = "sandbox"
            response.headers.setdefault("Content-Disposition", "attachment")
        elif response.mimetype == "text/html":  # pages only: not the API's JSON, not downloads
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        return response


def _register_errors(app: Flask) -> None:
    limit_mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)

    @app.errorhandler(Exception)
    def error(exc: Exception):
        body = as_problem(exc, limit_mb)
        if body is None:
            app.logger.exception("unhandled error")
            body = problem(500, "internal_error", "Internal server error", "the server failed; the change was not saved")
        if isinstance(exc, RateLimitExceeded):
            seconds = limits.retry_after(exc)
            body["detail"] = f"too many requests ({exc.description}); try again in {seconds} seconds"
            body["retry_after"] = seconds
        if not request.path.startswith("/api/"):
            response = make_response(page_error(exc, body))
        else:
            response = make_response((body, body["status"], {"Content-Type": "application/problem+json"}))
        if "retry_after" in body:
            response.headers["Retry-After"] = str(body["retry_after"])
        if isinstance(exc, HTTPException):
            # what the status needs beside the body: the Allow header of a 405 (RFC 9110), ...
            for name, value in exc.get_headers():
                if name.lower() != "content-type":
                    response.headers.setdefault(name, value)
        return response
