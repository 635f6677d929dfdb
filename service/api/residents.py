"""Residents (no login, under /public): a report in, its status by the tracking code, a rating; and
the office's side: the incoming reports, linking, forwarding and replying, petition counts."""
from __future__ import annotations

from datetime import date

from flask import request

from .. import limits, petitions, residents
from ..errors import Unprocessable
from ..validation import bounded_int
from . import PUBLIC_ENDPOINTS, bp, choice_arg, ctx, listing, page, payload, principal

REPORT_FIELDS: dict[str, dict] = {"category": {"enum": list(residents.CATEGORIES)},
                         "unit_code": {"type": "string", "maxLength": 40},
                         "round_id": {"type": "integer", "minimum": 1},
                         "place": {"type": "string", "maxLength": 200},
                         "description": {"type": "string", "minLength": 1, "maxLength": 2000},
                         "contact": {"type": "string", "maxLength": 100},
                         "challenge_token": {"type": "string", "maxLength": 200},
                         "challenge_answer": {"type": "string", "maxLength": 10}}
REPORT = {"type": "object", "required": ["category", "description"], "additionalProperties": False,
          "properties": REPORT_FIELDS}
RATING = {"type": "object", "required": ["score"], "additionalProperties": False,
          "properties": {"tracking_code": {"type": "string", "maxLength": 40},
                         "item_id": {"type": "integer", "minimum": 1},
                         "score": {"type": "integer", "minimum": 1, "maximum": 5},
                         "comment": {"type": "string", "maxLength": 500}},
          "oneOf": [{"required": ["tracking_code"]}, {"required": ["item_id"]}]}
LINK = {"type": "object", "required": ["round_id"], "additionalProperties": False,
        "properties": {"round_id": {"type": "integer"}, "unit_id": {"type": "integer"},
                       "category": {"type": "string", "maxLength": 100}}}
FORWARD = {"type": "object", "required": ["unit_id", "deadline"], "additionalProperties": False,
           "properties": {"unit_id": {"type": "integer"}, "deadline": {"type": "string", "format": "date"}}}
REPLY = {"type": "object", "required": ["reply"], "additionalProperties": False,
         "properties": {"reply": {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": r"\S"}}}
PETITIONS = {"type": "object", "required": ["unit_id", "period", "count"], "additionalProperties": False,
             "properties": {"unit_id": {"type": "integer"}, "period": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
                            "count": {"type": "integer", "minimum": 0, "maximum": petitions.MAX_COUNT}}}
DEVICE_COOKIE = "rf_device"

PUBLIC_ENDPOINTS.update({"api.submit_report", "api.report_status", "api.rate"})


def _submission() -> tuple[residents.Submission, list[bytes]]:
    """JSON, or a multipart form with the same fields and the photos as `photos`."""
    if request.mimetype == "multipart/form-data":
        form = request.form
        photos = [f.read() for f in request.files.getlist("photos") if f and f.filename]
        # a round the QR code named: one that does not exist (or is not a number) leaves the report without
        return _as_submission(dict(form.items()), bounded_int(form.get("round_id"))), photos
    data = payload(REPORT)
    return _as_submission(data, data.get("round_id")), []


def _as_submission(data: dict, round_id: int | None) -> residents.Submission:
    return residents.Submission(
        category=data.get("category") or "", description=data.get("description") or "",
        place=data.get("place") or "", unit_code=data.get("unit_code") or None, round_id=round_id,
        contact=data.get("contact") or None, challenge_token=data.get("challenge_token") or None,
        challenge_answer=data.get("challenge_answer") or None)


@bp.post("/public/reports")
@limits.limited(limits.PUBLIC)
def submit_report():
    sub, photos = _submission()
    c = ctx()
    code = c.db.transaction(lambda s: residents.submit(c, s, sub, photos, request.remote_addr or "-"))
    return {"tracking_code": residents.shown_code(code)}, 201


@bp.get("/public/reports/<code>")
@limits.limited(limits.PUBLIC)
@limits.limited(limits.PUBLIC_CODE)
def report_status(code):
    c = ctx()
    with c.db.read() as s:
        return residents.public_status_json(residents.public_status(s, code))


@bp.post("/public/ratings")
@limits.limited(limits.PUBLIC)
@limits.limited(limits.PUBLIC_CODE)
def rate():
    data = payload(RATING)
    c = ctx()
    device = request.cookies.get(DEVICE_COOKIE) or f"address:{request.remote_addr or '-'}"
    rating = c.db.transaction(lambda s: residents.rate(
        c, s, tracking_code=data.get("tracking_code"), item_id=data.get("item_id"), score=data["score"],
        comment=data.get("comment"), device=device))
    return {"id": rating.id, "score": rating.score}, 201


@bp.get("/resident-reports")
def resident_reports():
    limit, offset = page()
    status = choice_arg("status", residents.RESIDENT_REPORT_STATUSES)
    c = ctx()
    with c.db.read() as s:
        rows, total, _ = residents.incoming(s, principal(), status, limit, offset)
        return listing([residents.report_json(r.report, contact=True) for r in rows], total)


@bp.post("/resident-reports/<int:report_id>/link")
def link_report(report_id):
    data = payload(LINK)
    c = ctx()
    report = c.db.transaction(lambda s: residents.link(c, s, principal(), report_id, data["round_id"],
                                                       data.get("unit_id"), data.get("category")))
    return residents.report_json(report, contact=True)


@bp.post("/resident-reports/<int:report_id>/forward")
def forward_report(report_id):
    data = payload(FORWARD)
    c = ctx()
    try:
        deadline = date.fromisoformat(data["deadline"])
    except ValueError:
        raise Unprocessable.on_field("deadline", "not_a_date", "a date as YYYY-MM-DD") from None
    report = c.db.transaction(lambda s: residents.forward(c, s, principal(), report_id, data["unit_id"], deadline))
    return residents.report_json(report, contact=True)


@bp.post("/resident-reports/<int:report_id>/reply")
def reply_report(report_id):
    data = payload(REPLY)
    c = ctx()
    report = c.db.transaction(lambda s: residents.reply(c, s, principal(), report_id, data["reply"]))
    return residents.report_json(report, contact=True)


@bp.post("/petitions")
def enter_petitions():
    data = payload(PETITIONS)
    c = ctx()
    row = c.db.transaction(lambda s: petitions.enter(c, s, principal(), data["unit_id"], data["period"],
                                                     data["count"]))
    return {"unit_id": row.unit_id, "period": row.period, "count": row.count}, 201
