"""Sending a message or a signal by hand (linked from the operators' page): what an outside system
does over `POST /messages` and `/signals`, for the office when the word comes by telephone or paper.

The page lists the names that would reach something now (`correlation.awaited`), so nobody guesses
them; what a message carries is typed as field and value pairs, sent as text. The rules (who may
send, what a message must hold, what it reaches) are `service.correlation`'s, as for the API.
"""
from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from werkzeug.datastructures import MultiDict

from .. import correlation
from ..errors import NotFound
from . import ctx, principal
from .i18n import _
from .instances import bp
from .problems import error_text, place_errors

DATA_ROWS = 3  # field and value pairs a form carries; more is an outside system's work, over the API
KEY_LIMIT, VALUE_LIMIT = 100, 2000
SENT = "events_sent"  # the last sending's result, shown once on the page it returns to


def _form(kind: str, form: MultiDict) -> tuple[dict, dict[str, list[str]], list[dict]]:
    """The posted form as the body the API takes, its problems by field, and its data rows to show again."""
    rows = [{"key": k.strip(), "value": v} for k, v in zip(form.getlist("data_key"), form.getlist("data_value"),
                                                             strict=False)][:DATA_ROWS]
    errors: dict[str, list[str]] = {}
    data: dict[str, str] = {}
    for i, row in enumerate(rows):
        if not row["key"] and row["value"]:
            errors[f"data.{i}"] = [_("Name the field this value belongs to")]
        elif len(row["key"]) > KEY_LIMIT or len(row["value"]) > VALUE_LIMIT:
            errors[f"data.{i}"] = [_("A field name holds at most %(key)s characters, a value %(value)s",
                                     key=KEY_LIMIT, value=VALUE_LIMIT)]
        elif row["key"] in data:
            errors[f"data.{i}"] = [_("This field name is given twice")]
        elif row["key"]:
            data[row["key"]] = row["value"]
    body: dict = {"name": (form.get("name") or "").strip(), "data": data or None}
    if kind == "message":
        body.update({k: (form.get(k) or "").strip() or None for k in ("business_key", "correlation_key")})
    errors.update(place_errors(correlation.problems(kind, body)))
    return body, errors, rows


def _blank(kind: str) -> dict:
    """An empty form; the names listed on the page link here with `?kind=&name=` to fill one in."""
    name = request.args.get("name", "") if request.args.get("kind") == kind else ""
    return {"values": {"name": name}, "errors": {}, "rows": []}


def _page(status: int = 200, sent: dict | None = None, **forms):
    with ctx().db.read() as s:
        awaited = correlation.awaited(ctx(), s, principal())
    shown = {kind: forms.get(kind) or _blank(kind) for kind in ("message", "signal")}
    for form in shown.values():
        form["rows"] = (form["rows"] + [{"key": "", "value": ""}] * DATA_ROWS)[:DATA_ROWS]
    return render_template("instances/events.html", awaited=awaited, forms=shown, sent=sent), status


@bp.get("/events")
def events():
    """The two forms, the names in use now and, once, what the last sending reached."""
    return _page(sent=session.pop(SENT, None))


@bp.post("/events/<any(message, signal):kind>")
def send_event(kind: str):
    body, errors, rows = _form(kind, request.form)
    c, p = ctx(), principal()
    if not errors:
        try:
            if kind == "message":
                reached = correlation.send_message(c, p, body["name"], body["business_key"], body["correlation_key"],
                                                   body["data"])
            else:
                reached = correlation.send_signal(c, p, body["name"], body["data"])
        except NotFound as exc:
            errors = {"name": [error_text(exc.code, exc.params)]}
        else:
            session[SENT] = {"kind": kind, "name": body["name"], "instances": reached["instances"]}
            return redirect(url_for("instances.events"))
    values = {k: v for k, v in body.items() if k != "data"}
    return _page(422, **{kind: {"values": {k: v or "" for k, v in values.items()}, "errors": errors, "rows": rows}})
