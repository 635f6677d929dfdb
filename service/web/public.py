"""The residents' pages (群众端): no login, Chinese, made for a phone first.

A resident opens the report page from a QR code the office printed (naming a unit or a round),
reports a problem with photos if they like, and gets a tracking code; with the code they read the
status, the steps and the office's reply, and rate the handling. A round's published disclosure
(整改公开) is read and rated here too. Each page calls one function of `service.residents` or
`service.disclosure`; the limits per address and per code are `service.limits`' PUBLIC ones.
"""
from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from .. import disclosure, limits, residents
from ..errors import ApiError
from . import ctx
from .i18n import _
from .problems import error_text, errors_of

bp: Blueprint = Blueprint("public", __name__, url_prefix="/public")
DEVICE_COOKIE = "rf_device"  # a random id of the browser: one rating per device and item
CODE_KEY = "rf_report_code"  # the code just given, shown once after the redirect


@bp.after_request
def _device(response):
    """Every resident's browser gets a random device id (nothing about the person): ratings count once per device."""
    if not request.cookies.get(DEVICE_COOKIE):
        response.set_cookie(DEVICE_COOKIE, secrets.token_urlsafe(24), max_age=365 * 86400, httponly=True,
                            samesite="Lax", secure=request.is_secure)
    return response


def _device_id() -> str:
    return request.cookies.get(DEVICE_COOKIE) or f"address:{request.remote_addr or '-'}"


@bp.get("/")
def home():
    c = ctx()
    with c.db.read() as s:
        published = disclosure.published_list(s)
    return render_template("public/home.html", disclosures=published)


def _report_page(entered: dict, errors: dict | None = None, challenge: residents.Challenge | None = None,
                 status: int = 200):
    c = ctx()
    raw_round = entered.get("round_id") or ""
    with c.db.read() as s:
        form = residents.report_form(s, entered.get("unit_code") or None,
                                     int(raw_round) if str(raw_round).isdigit() and len(str(raw_round)) < 10 else None)
        units = residents.unit_options(s)
    return render_template("public/report.html", form=form, units=units, entered=entered, errors=errors or {},
                           challenge=challenge, photo_limit=c.settings.resident_photos,
                           photo_mb=c.settings.resident_photo_mb), status


@bp.get("/report")
def report_form():
    """The report form; `?unit=CODE` or `?round=ID` (the QR code's) fill in the unit or the round."""
    return _report_page({"unit_code": request.args.get("unit", "")[:40], "round_id": request.args.get("round", "")})


@bp.post("/report")
@limits.limited(limits.PUBLIC)
def submit_report():
    form = request.form
    entered = {k: form.get(k, "") for k in ("category", "unit_code", "round_id", "place", "description", "contact")}
    raw_round = entered["round_id"]
    sub = residents.Submission(
        category=entered["category"], description=entered["description"], place=entered["place"],
        unit_code=entered["unit_code"] or None, contact=entered["contact"] or None,
        round_id=int(raw_round) if raw_round.isdigit() and len(raw_round) < 10 else None,
        challenge_token=form.get("challenge_token") or None, challenge_answer=form.get("challenge_answer") or None)
    photos = [f.read() for f in request.files.getlist("photos") if f and f.filename]
    c = ctx()
    try:
        code = c.db.transaction(lambda s: residents.submit(c, s, sub, photos, request.remote_addr or "-"))
    except residents.ChallengeRequired as exc:
        return _report_page(entered, errors_of(exc, "challenge_answer"), exc.challenge, 422)
    except ApiError as exc:
        if exc.status not in (413, 422):
            raise
        return _report_page(entered, errors_of(exc, "description"), None, exc.status)
    session[CODE_KEY] = residents.shown_code(code)
    return redirect(url_for("public.received"))


@bp.get("/report/received")
def received():
    code = session.get(CODE_KEY)
    if not code:
        return redirect(url_for("public.track"))
    return render_template("public/received.html", code=code)


@bp.get("/track")
def track():
    return render_template("public/track.html", view=None, entered_code="", error=None)


def _status_page(code: str, error: str | None = None, status: int = 200, thanks: bool = False):
    c = ctx()
    with c.db.read() as s:
        try:
            view = residents.public_status(s, code)
        except ApiError as exc:
            if exc.status != 404:
                raise
            # an unknown code and a malformed one get the very same page
            return render_template("public/track.html", view=None, entered_code=code,
                                   error=error_text("report_not_found")), 404
    return render_template("public/track.html", view=view, entered_code=code, error=error, thanks=thanks), status


@bp.post("/track")
@limits.limited(limits.PUBLIC)
@limits.limited(limits.PUBLIC_CODE)
def track_code():
    """By POST, so that the code stays out of addresses, histories and logs."""
    return _status_page(request.form.get("tracking_code", "")[:40])


@bp.post("/track/rate")
@limits.limited(limits.PUBLIC)
@limits.limited(limits.PUBLIC_CODE)
def rate_report():
    code = request.form.get("tracking_code", "")[:40]
    raw = request.form.get("score", "")
    c = ctx()
    try:
        c.db.transaction(lambda s: residents.rate(c, s, tracking_code=code, item_id=None,
                                                  score=int(raw) if raw.isdigit() and len(raw) < 3 else raw,
                                                  comment=request.form.get("comment"), device=_device_id()))
    except ApiError as exc:
        if exc.status == 404:
            return _status_page(code)
        if exc.status not in (409, 422):
            raise
        return _status_page(code, errors_of(exc, "score").popitem()[1][0], exc.status)
    return _status_page(code, thanks=True)


@bp.get("/disclosures")
def disclosures():
    return redirect(url_for("public.home"))


@bp.get("/disclosures/<int:disclosure_id>")
def disclosure_page(disclosure_id):
    c = ctx()
    with c.db.read() as s:
        page = disclosure.public_page(s, disclosure_id)
    return render_template("public/disclosure.html", page=page)


@bp.post("/disclosures/<int:disclosure_id>/rate")
@limits.limited(limits.PUBLIC)
def rate_item(disclosure_id):
    raw_item, raw = request.form.get("item_id", ""), request.form.get("score", "")
    item_id = int(raw_item) if raw_item.isdigit() and len(raw_item) < 10 else None
    c = ctx()
    try:
        c.db.transaction(lambda s: residents.rate(c, s, tracking_code=None, item_id=item_id,
                                                  score=int(raw) if raw.isdigit() and len(raw) < 3 else raw,
                                                  comment=request.form.get("comment"), device=_device_id()))
    except ApiError as exc:
        if exc.status not in (404, 409, 422):
            raise
        flash(errors_of(exc, "score").popitem()[1][0], "error")
    else:
        flash(_("Thank you for your rating."), "success")
    return redirect(url_for("public.disclosure_page", disclosure_id=disclosure_id) + (f"#item-{item_id}" if item_id else ""))
