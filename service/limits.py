"""Rate limits (Flask-Limiter): how often one client may ask for what costs the service, or an
attacker, the most.

A view takes a limit by name, below its route:

    @bp.post("/auth/token")
    @limits.limited(limits.LOGIN)
    def issue_token(): ...

The names (`RULES`) say whom a request is counted against and which setting holds the rate:

- LOGIN: proving who one is without a session (the login page, `POST /api/v1/auth/token`, a second
  factor given at login): per client address and per username tried, `RECTIFLOW_RATE_LIMIT_LOGIN`;
- CREDENTIAL: a logged-in account proving a secret again (a password change, a second-factor
  confirmation): per account, `RECTIFLOW_RATE_LIMIT_CREDENTIAL`;
- UPLOAD: evidence files: per account, `RECTIFLOW_RATE_LIMIT_UPLOAD`;
- PUBLIC: the residents' endpoints, which need no login: per address, `RECTIFLOW_RATE_LIMIT_PUBLIC`;
- PUBLIC_CODE: a resident's tracking code looked up (or rated by): per address
  (`RECTIFLOW_RATE_LIMIT_PUBLIC`) and per code tried, `RECTIFLOW_RATE_LIMIT_PUBLIC_CODE`, so that
  neither one address nor many addresses together try codes fast.

Each name is one count however many views take it (a login on the page and one through the API
come out of the same allowance). Every API request besides counts towards `RECTIFLOW_RATE_LIMIT_API`
per address, unless its view takes a named limit. The rates are read from the settings at each
request; the counts live in `RECTIFLOW_RATE_LIMIT_STORAGE` (memory:// for one process, redis:// for
several). A request over a limit is answered 429 `too_many_requests` with Retry-After in seconds;
the limits count by the wall clock, not the service's clock.
"""
from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, current_app, g, request
from flask_limiter import Limiter, RateLimitExceeded
from limits.errors import ConfigurationError

from config import Settings, SettingsError

LOGIN = "login"
CREDENTIAL = "credential"
UPLOAD = "upload"
PUBLIC = "public"
PUBLIC_CODE = "public_code"

_EXTENSION = "rectiflow_limiter"
_MARK = "_rectiflow_rate_limits"
View = TypeVar("View", bound=Callable)


def client_address() -> str:
    """The client's address: the peer, or, behind RECTIFLOW_TRUSTED_PROXIES proxies, the address
    they forwarded."""
    return f"address:{request.remote_addr or '-'}"


def username_tried() -> str:
    """The username a login request names (form field or JSON member), folded as a person would type
    it; hashed, so any text makes a key of one size."""
    name = request.form.get("username")
    if name is None and request.is_json:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    folded = name.strip().casefold() if isinstance(name, str) else ""
    return "username:" + hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def tracking_code() -> str:
    """The tracking code a request names (path, form field or JSON member), hashed to one size."""
    code = (request.view_args or {}).get("code") or request.form.get("tracking_code") or request.args.get("code")
    if code is None and request.is_json:
        body = request.get_json(silent=True)
        code = body.get("tracking_code") if isinstance(body, dict) else None
    text = code.strip().upper() if isinstance(code, str) else ""
    return "code:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def account() -> str:
    """The logged-in account (pages and API alike set g.principal before the view runs)."""
    p = g.get("principal")
    return f"account:{p.id}" if p is not None else client_address()


@dataclass(frozen=True)
class Rule:
    setting: str  # the Settings attribute holding the rate
    keys: tuple[Callable[[], str], ...]  # each key is counted on its own; any one over the rate refuses


RULES: dict[str, Rule] = {
    LOGIN: Rule("rate_limit_login", (client_address, username_tried)),
    CREDENTIAL: Rule("rate_limit_credential", (account,)),
    UPLOAD: Rule("rate_limit_upload", (account,)),
    PUBLIC: Rule("rate_limit_public", (client_address,)),
    PUBLIC_CODE: Rule("rate_limit_public_code", (tracking_code,)),
}


def limited(name: str, methods: tuple[str, ...] | None = None) -> Callable[[View], View]:
    """Mark a view for the named limit (`RULES`), for all its methods or only `methods` (a page that
    shows its form on GET counts only the POST). `init_app` puts the limits on every marked view."""
    if name not in RULES:
        raise KeyError(f"no rate limit named {name!r}; known: {', '.join(RULES)}")

    def mark(view: View) -> View:
        setattr(view, _MARK, (*getattr(view, _MARK, ()), (name, methods)))
        return view

    return mark


def _rate(setting: str) -> Callable[[], str]:
    def rate() -> str:
        settings: Settings = current_app.extensions["rectiflow"].settings
        return getattr(settings, setting)
    return rate


def init_app(app: Flask, settings: Settings) -> Limiter:
    """A limiter of this application's own: its storage, the named limits on every marked view, and
    the API's general limit."""
    try:
        limiter = Limiter(client_address, storage_uri=settings.rate_limit_storage, strategy="moving-window",
                          key_prefix="rectiflow", in_memory_fallback_enabled=True)
        limiter.init_app(app)
    except ConfigurationError as exc:
        raise SettingsError(f"RECTIFLOW_RATE_LIMIT_STORAGE: {exc}") from None
    for endpoint, view in list(app.view_functions.items()):
        wrapped: Callable[..., Any] = view
        for name, methods in getattr(view, _MARK, ()):
            rule = RULES[name]
            for key in rule.keys:
                wrapped = limiter.shared_limit(_rate(rule.setting), scope=name, key_func=key,
                                               methods=list(methods) if methods else None)(wrapped)
        app.view_functions[endpoint] = wrapped
    limiter.shared_limit(_rate("rate_limit_api"), scope="api")(cast(Blueprint, app.blueprints["api"]))
    app.extensions[_EXTENSION] = limiter
    return limiter


def limiter_of(app: Flask) -> Limiter:
    return app.extensions[_EXTENSION]


def retry_after(exc: RateLimitExceeded) -> int:
    """Whole seconds until the limit this request went over takes another request (at least 1)."""
    breached = limiter_of(current_app).current_limit
    if breached is None:
        return int(exc.limit.limit.get_expiry())
    return max(1, math.ceil(breached.window.reset_time - time.time()))
