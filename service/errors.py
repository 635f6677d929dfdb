"""Errors as application/problem+json (RFC 9457): a 4xx that names what was wrong.

Every error body carries a stable snake_case `code`; field errors are `{"field", "code",
"message"}`. `as_problem` is the one place that turns any exception into that body, for the
API and (through their own rendering) the pages.
"""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from workflows.engine import EngineError, InvalidTaskData, WorkflowFailure


class ApiError(Exception):
    """`code` is stable (snake_case) for clients and pages to act on; `detail` is for people."""

    status = 400
    title = "Bad request"
    code = "bad_request"

    def __init__(self, detail: str, errors: list[dict] | None = None, *, code: str | None = None, **params):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.code = code or type(self).code
        self.params = params  # values the message names, for pages that word it themselves

    @classmethod
    def on_field(cls, field: str, code: str, message: str, detail: str | None = None, **params) -> ApiError:
        """An error about one field, coded the same at the top and on the field."""
        return cls(detail or message, [{"field": field, "code": code, "message": message}], code=code, **params)

    def body(self) -> dict:
        return problem(self.status, self.code, self.title, self.detail, self.errors)


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    status, title = 401, "Unauthorized"
    code = "unauthorized"


class AccountLocked(Unauthorized):
    """Too many failed logins; the account is refused until the lockout ends."""

    code = "account_locked"


class Forbidden(ApiError):
    status, title = 403, "Forbidden"
    code = "forbidden"


class NotFound(ApiError):
    status, title = 404, "Not found"
    code = "not_found"


class Conflict(ApiError):
    status, title = 409, "Conflict"
    code = "conflict"


class TooLarge(ApiError):
    status, title = 413, "Payload too large"
    code = "payload_too_large"


class Unprocessable(ApiError):
    status, title = 422, "Unprocessable content"
    code = "unprocessable"


def problem(status: int, code: str, title: str, detail: str, errors: list[dict] | None = None) -> dict:
    """The one shape of an error body (RFC 9457 problem details, with our stable `code`)."""
    body = {"type": "about:blank", "title": title, "status": status, "code": code, "detail": detail}
    if errors:
        body["errors"] = errors
    return body


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 429: "too_many_requests"}


def as_problem(exc: BaseException, upload_limit_mb: int | None = None) -> dict | None:
    """The problem body for an exception the service expects; None for a bug (a 500)."""
    from .db import Conflict as RetryConflict  # the database module imports the models, which come later

    if isinstance(exc, ApiError):
        return exc.body()
    if isinstance(exc, InvalidTaskData):
        return problem(422, exc.code, "Unprocessable content", str(exc), exc.errors)
    if isinstance(exc, WorkflowFailure):
        errors = [{"element_id": exc.element_id, "code": exc.code, "message": str(exc)}] if exc.element_id else None
        return problem(422, exc.code, "The process model failed", str(exc), errors)
    if isinstance(exc, EngineError):
        return problem(exc.status, exc.code, "Conflict" if exc.status == 409 else "Not found", str(exc))
    if isinstance(exc, RetryConflict):
        return problem(409, "concurrent_change", "Conflict", str(exc))
    if isinstance(exc, IntegrityError):
        # two requests created the same thing at once; the loser's transaction rolled back whole
        return problem(409, "duplicate", "Conflict", "the record conflicts with one that exists already; reload and retry")
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        detail = exc.description or exc.name
        if status == 413 and upload_limit_mb:
            detail = f"the request is larger than the limit of {upload_limit_mb} MB"
        return problem(status, _HTTP_CODES.get(status, f"http_{status}"), exc.name, detail)
    return None
