"""The JSON API under /api/v1: thin views that parse, call one service function, render."""
from __future__ import annotations

from flask import Blueprint, current_app, g, request
from jsonschema import Draft202012Validator

from workflows.forms import schema_problems

from ..auth import Principal, authenticate
from ..context import Context
from ..errors import BadRequest, Forbidden, Unauthorized, Unprocessable
from ..totp import check_enrolled
from ..validation import MAX_INT, check_value

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC_ENDPOINTS = {"api.health", "api.openapi", "api.issue_token"}
# What an account that must enrol a second factor may still do before it has one: enrol, or log out.
ENROLMENT_ENDPOINTS = {"api.start_totp", "api.confirm_totp", "api.revoke_token"}
# What an account with a temporary password (created, or reset, by an administrator) may still do:
# set a password of its own, or log out.
PASSWORD_CHANGE_ENDPOINTS = {"api.change_my_password", "api.change_password", "api.revoke_token"}


def ctx() -> Context:
    return current_app.extensions["rectiflow"]


def principal() -> Principal:
    return g.principal


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token> (POST /api/v1/auth/token to get one)")
    c = ctx()
    g.principal = authenticate(c, token.strip())
    if g.principal.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        raise Forbidden("the account has a temporary password: set one of your own first "
                        '(POST /api/v1/me/password {"current", "new"})', code="password_change_required")
    if request.endpoint not in ENROLMENT_ENDPOINTS and not g.principal.must_change_password:
        with c.db.read() as s:
            check_enrolled(s, g.principal, c.settings)


def payload(schema: dict, optional: bool = False) -> dict:
    """The request's JSON body, checked against `schema`; problems name the field. An optional body
    may be left out altogether: that is `{}`."""
    if optional and not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise BadRequest("the body must be JSON (Content-Type: application/json)", code="json_required")
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("the body is not valid JSON", code="invalid_json")
    errors = check_value(data) or schema_problems(Draft202012Validator(schema), data)
    if errors:
        raise Unprocessable("the request body does not fit", errors, code="invalid_body")
    return data


def int_arg(name: str, default: int | None = None, minimum: int = 0, maximum: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"query parameter {name} must be an integer, got {raw!r}", code="invalid_query") from None
    maximum = MAX_INT if maximum is None else maximum
    if value < minimum or value > maximum:
        raise BadRequest(f"query parameter {name} must be between {minimum} and {maximum}", code="invalid_query")
    return value


def choice_arg(name: str, choices) -> str | None:
    """A query parameter that must be one of `choices` when given: a misspelt filter is refused,
    not taken as one that matches nothing."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise BadRequest(f"query parameter {name} must be one of {', '.join(choices)}", code="invalid_query")
    return raw


def page() -> tuple[int, int]:
    return int_arg("limit", 50, 1, 500) or 50, int_arg("offset", 0, 0) or 0


def listing(items: list, total: int) -> dict:
    return {"items": items, "total": total}


from . import (  # noqa: E402,F401  (routes register on bp)
    audit,
    auth,
    cases,
    decisions,
    instances,
    jobs,
    library,
    models,
    notices,
    org,
    residents,
    rounds,
    stats,
    tasks,
)
