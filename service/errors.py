"""Errors as application/problem+json (RFC 9457): a 4xx that names what was wrong."""
from __future__ import annotations


class ApiError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, errors: list[dict] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors

    def body(self) -> dict:
        body = {"type": "about:blank", "title": self.title, "status": self.status, "detail": self.detail}
        if self.errors:
            body["errors"] = self.errors
        return body


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    status, title = 401, "Unauthorized"


class AccountLocked(Unauthorized):
    """Too many failed logins; the account is refused until the lockout ends."""


class Forbidden(ApiError):
    status, title = 403, "Forbidden"


class NotFound(ApiError):
    status, title = 404, "Not found"


class Conflict(ApiError):
    status, title = 409, "Conflict"


class TooLarge(ApiError):
    status, title = 413, "Payload too large"


class Unprocessable(ApiError):
    status, title = 422, "Unprocessable content"
