"""rectiflow: the Flask service for the inspection common-problem rectification mechanism."""
from __future__ import annotations

from flask import Flask, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from config import Settings
from workflows.clock import Clock
from workflows.engine import EngineError, InvalidTaskData, WorkflowFailure

from .context import deploy_default_models, make_context
from .db import Conflict as RetryConflict
from .db import create_schema
from .errors import ApiError, BadRequest, NotFound
from .validation import MAX_INT, check_value
from .web import html_error


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(SECRET_KEY=settings.require_secret_key(), JSON_AS_ASCII=False,
                      MAX_CONTENT_LENGTH=(settings.max_upload_mb + 1) * 1024 * 1024)
    app.json.ensure_ascii = False
    ctx = make_context(settings, clock)
    create_schema(ctx.db.engine)
    deploy_default_models(ctx)
    app.extensions["rectiflow"] = ctx

    from .api import bp as api_bp

    app.register_blueprint(api_bp)
    from .web import init_app as init_web

    init_web(app)  # the pages, CSRF (the token-authenticated API is exempt), session cookie settings
    from .web import dashboard, designer, instances

    for page_bp in (designer.bp, instances.bp, dashboard.bp):  # init_web may have registered some already
        if page_bp.name not in app.blueprints:
            app.register_blueprint(page_bp)
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
                raise BadRequest("some fields cannot be stored", problems)

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


def _problem(status: int, title: str, detail: str, errors=None):
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return body, status, {"Content-Type": "application/problem+json"}


def _register_errors(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        if not request.path.startswith("/api/"):  # pages get a page; the API keeps problem+json
            return html_error(exc.status, exc.detail)
        return exc.body(), exc.status, {"Content-Type": "application/problem+json"}

    @app.errorhandler(InvalidTaskData)
    def invalid_data(exc: InvalidTaskData):
        return _problem(422, "Unprocessable content", str(exc), exc.errors)

    @app.errorhandler(WorkflowFailure)
    def workflow_failure(exc: WorkflowFailure):
        return _problem(422, "The process model failed", str(exc),
                        [{"element_id": exc.element_id, "message": str(exc)}] if exc.element_id else None)

    @app.errorhandler(EngineError)
    def engine_error(exc: EngineError):
        return _problem(exc.status, "Conflict" if exc.status == 409 else "Not found", str(exc))

    @app.errorhandler(RetryConflict)
    def retry_conflict(exc: RetryConflict):
        return _problem(409, "Conflict", str(exc))

    @app.errorhandler(IntegrityError)
    def integrity_error(exc: IntegrityError):
        # two requests created the same thing at once; the loser's transaction rolled back whole
        return _problem(409, "Conflict", "the record conflicts with one that exists already; reload and retry")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        app.logger.exception("unhandled error")
        if not request.path.startswith("/api/"):
            return html_error(500)
        return _problem(500, "Internal server error", "the server failed; the change was not saved")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not request.path.startswith("/api/"):  # pages get a page; the API keeps problem+json
            return html_error(exc.code or 500)
        detail = exc.description or exc.name
        if exc.code == 413:
            detail = f"the request is larger than the limit of {app.config['MAX_CONTENT_LENGTH'] // (1024 * 1024)} MB"
        return _problem(exc.code or 500, exc.name, detail)
