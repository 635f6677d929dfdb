"""rectiflow: the Flask service for the inspection common-problem rectification mechanism."""
from __future__ import annotations

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from config import Settings
from workflows.clock import Clock

from .context import deploy_default_models, make_context
from .db import create_schema
from .errors import BadRequest, NotFound, as_problem, problem
from .validation import MAX_INT, check_value
from .web import page_error


class _Utf8Json(DefaultJSONProvider):
    ensure_ascii = False


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(SECRET_KEY=settings.require_secret_key(),
                      MAX_CONTENT_LENGTH=(settings.max_upload_mb + 1) * 1024 * 1024)
    app.json = _Utf8Json(app)  # Chinese as itself in JSON, not \uXXXX escapes
    ctx = make_context(settings, clock)
    create_schema(ctx.db.engine)
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
    return app


def _register_guards(app: Flask) -> None:
    @app.before_request
    def _storable_input() -> None:
        """Ids and form text the databases cannot hold are refused here, for every page and endpoint."""
        for name, value in (request.view_args or {}).items():
            if isinstance(value, int) and value > MAX_INT:
                raise NotFound(f"no {name.removesuffix('_id')} {value}")
        if request.form:
            problems = [p for key, value in request.form.items(multi=True) for p in check_value(value, key)]
            if problems:
                raise BadRequest("some fields cannot be stored", problems, code="unstorable_input")

    @app.after_request
    def _safe_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype in ("application/xml", "text/xml"):
            # uploaded BPMN: never let a browser run what a diagram carries (XHTML script elements)
            response.headers["Content-Security-Policy"] = "sandbox"
            response.headers.setdefault("Content-Disposition", "attachment")
        return response


def _register_errors(app: Flask) -> None:
    limit_mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)

    @app.errorhandler(Exception)
    def error(exc: Exception):
        body = as_problem(exc, limit_mb)
        if body is None:
            app.logger.exception("unhandled error")
            body = problem(500, "internal_error", "Internal server error", "the server failed; the change was not saved")
        if not request.path.startswith("/api/"):
            return page_error(exc, body)
        return body, body["status"], {"Content-Type": "application/problem+json"}
