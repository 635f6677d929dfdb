"""Errors as application/problem+json (RFC 9457): a 4xx that names what was wrong."""
from __future__ import annotations


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

    def body(self) -> dict:
        body = {"type": "about:blank", "title": self.title, "status": self.status, "code": self.code,
                "detail": self.detail}
        if self.errors:
            body["errors"] = self.errors
        return body


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
