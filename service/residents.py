"""Residents' reports (群众反映): in from the public pages, triaged by the office, answered by code.

A resident needs no account. A report gets a long random tracking code, the resident's only handle
on it: the status and the office's reply are read by that code, and an unknown code is answered
exactly as a wrong one, so nothing can be learnt by trying codes. Everything a resident sends is
untrusted: texts are length-checked (and shown escaped by the pages), photos are decoded and
re-encoded with Pillow so the stored picture carries no camera data or location, and an address
that sent several reports within the hour must work out a sum (made here, checked by a keyed hash,
usable once) before the next. The rate limits per address and per code are in `service.limits`.

The office then links a report to a problem of a round (it joins the problem list as 群众反映),
forwards it to a unit with a deadline (交办: a `resident_report` process whose task is in the unit's
inbox), or closes it with a reply; each step is visible to the resident by the code, without names.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from workflows.engine import StepEvent

from . import access, audit, rounds, workflow
from .auth import Principal
from .context import Context
from .db import lock_row
from .errors import Conflict, NotFound, TooLarge, Unprocessable
from .models import (
    RESIDENT_REPORT_STATUSES,
    BusinessKey,
    KeyKind,
    Problem,
    ProblemSource,
    Rating,
    ResidentChallenge,
    ResidentPhoto,
    ResidentReport,
    ResidentReportStatus,
    ResidentReportStep,
    Round,
    RoundStatus,
    Unit,
)
from .organisation import round_names, unit_names
from .validation import bad_text, require_lengths, required_text

# What a resident may choose as the kind of problem (the office may file it under any category later).
CATEGORIES = ("工程建设", "便民服务", "环境卫生", "道路交通", "集体资产", "食品安全", "作风问题", "其他")
# Tracking codes: 16 characters of an alphabet without look-alikes (0/O, 1/I/L), 80 random bits.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16
MAX_PIXELS = 40_000_000         # a picture larger than this is refused before it is decoded (decompression bombs)
MAX_SIDE = 2048                 # what is kept: enough to see the problem, small enough to store
CHALLENGE_SECONDS = 600
PHOTO_TYPES = ("JPEG", "PNG", "WEBP")


# ---------------------------------------------------------------- keys and codes
def _key(ctx: Context, purpose: str, text: str) -> str:
    """A keyed hash (the service's secret key): the same text gives the same key, and nobody without
    the secret can go back from the key to the text (an address, a device)."""
    return hmac.new(ctx.settings.secret_key.encode(), f"{purpose}:{text}".encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()[:32]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str | None) -> str:
    """A code as typed (spaces, dashes, lower case) as stored; anything else gives '' (found by nobody)."""
    code = re.sub(r"[\s-]", "", (text or "")).upper()
    return code if len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code) else ""


def shown_code(code: str) -> str:
    """XXXX-XXXX-XXXX-XXXX: easier to copy down by hand."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


# ---------------------------------------------------------------- the challenge
@dataclass(frozen=True)
class Challenge:
    question: str   # "7 + 5"
    token: str      # nonce.expiry.mac: the answer is not in it, only its keyed hash


def new_challenge(ctx: Context) -> Challenge:
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    nonce = secrets.token_hex(16)
    expires = int(ctx.now().timestamp()) + CHALLENGE_SECONDS
    return Challenge(f"{a} + {b}", f"{nonce}.{expires}.{_key(ctx, 'challenge', f'{nonce}.{expires}.{a + b}')}")


class ChallengeRequired(Unprocessable):
    """The submission needs a sum worked out; the body carries a new one for the next try."""

    code = "challenge_required"

    def __init__(self, detail: str, challenge: Challenge, *, code: str | None = None):
        super().__init__(detail, [{"field": "challenge_answer", "code": code or self.code, "message": detail}],
                         code=code)
        self.challenge = challenge

    def body(self) -> dict:
        return {**super().body(), "challenge": {"question": self.challenge.question, "token": self.challenge.token}}


def _check_challenge(ctx: Context, s: Session, source: str, token: str | None, answer: str | None) -> None:
    """Below the threshold nothing is asked; above it, a right answer to an unexpired, unused sum."""
    since = ctx.now() - timedelta(hours=1)
    recent = s.scalar(select(func.count()).select_from(ResidentReport)
                      .where(ResidentReport.source_key == source, ResidentReport.received_at >= since)) or 0
    if recent < ctx.settings.resident_challenge_after:
        return
    if not token:
        raise ChallengeRequired("several reports came from this address: answer the challenge",
                                new_challenge(ctx))
    nonce, _, rest = token.partition(".")
    expires, _, mac = rest.partition(".")
    given = (answer or "").strip()
    right = (expires.isdigit() and given.isdigit() and len(given) < 4 and len(nonce) == 32
             and hmac.compare_digest(mac, _key(ctx, "challenge", f"{nonce}.{expires}.{int(given)}"))
             and int(expires) >= ctx.now().timestamp())
    if not right or s.get(ResidentChallenge, nonce) is not None:
        raise ChallengeRequired("the answer is wrong or the challenge expired", new_challenge(ctx),
                                code="challenge_wrong")
    s.execute(delete(ResidentChallenge).where(ResidentChallenge.expires_at < ctx.now()))
    s.add(ResidentChallenge(nonce=nonce, expires_at=datetime.fromtimestamp(int(expires), ctx.now().tzinfo)))


# ---------------------------------------------------------------- photos
def reencode(data: bytes, limit_mb: int) -> tuple[bytes, int, int]:
    """A picture decoded and written again as a plain JPEG: what the camera or phone wrote beside the
    pixels (EXIF with the location, comments, colour profiles) is left behind; turned upright first."""
    if len(data) > limit_mb * 1024 * 1024:
        raise TooLarge.on_field("photos", "photo_too_large", f"at most {limit_mb} MB per photo", limit_mb=limit_mb)
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in PHOTO_TYPES or img.width * img.height > MAX_PIXELS:
                raise ValueError(img.format)
            upright = ImageOps.exif_transpose(img)
            pixels = upright.convert("RGB")
            pixels.thumbnail((MAX_SIDE, MAX_SIDE))
            # a new image from the pixels alone: nothing of the file's info (comments, EXIF, ICC) comes along
            clean = Image.frombytes("RGB", pixels.size, pixels.tobytes())
            out = io.BytesIO()
            clean.save(out, "JPEG", quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise Unprocessable.on_field("photos", "photo_not_image", "a JPEG, PNG or WebP picture") from None
    return out.getvalue(), clean.width, clean.height


# ---------------------------------------------------------------- in: a resident reports
@dataclass(frozen=True)
class Submission:
    category: str
    description: str
    place: str = ""
    unit_code: str | None = None
    round_id: int | None = None
    contact: str | None = None
    challenge_token: str | None = None
    challenge_answer: str | None = None


def report_form(s: Session, unit_code: str | None, round_id: int | None) -> dict:
    """What the report page offers: the categories, and the unit or round its QR code named (if
    it names one that exists and is active; otherwise the page is the general one)."""
    unit = s.scalar(select(Unit).where(Unit.code == unit_code, Unit.active.is_(True))) if unit_code else None
    rnd = s.get(Round, round_id) if round_id else None
    return {"categories": CATEGORIES, "unit": {"code": unit.code, "name": unit.name} if unit else None,
            "round": {"id": rnd.id, "name": rnd.name} if rnd is not None else None}


def submit(ctx: Context, s: Session, sub: Submission, photos: list[bytes], address: str) -> str:
    """A resident's report; returns its tracking code. Nothing is stored unless all of it is valid."""
    description = required_text("description", sub.description, "required", "describe the problem", 2000)
    category = (sub.category or "").strip()
    if category not in CATEGORIES:
        raise Unprocessable.on_field("category", "enum", "choose one of the categories")
    place, contact = (sub.place or "").strip(), (sub.contact or "").strip() or None
    require_lengths(place=(place, 200), contact=(contact, 100))
    for name, value in (("description", description), ("place", place), ("contact", contact or "")):
        if bad_text(value):
            raise Unprocessable.on_field(name, "unstorable_text", "contains characters that cannot be stored")
    if len(photos) > ctx.settings.resident_photos:
        raise Unprocessable.on_field("photos", "too_many_photos", f"at most {ctx.settings.resident_photos} photos",
                                     limit=ctx.settings.resident_photos)
    cleaned = [reencode(data, ctx.settings.resident_photo_mb) for data in photos if data]
    unit_id = None
    if sub.unit_code:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == sub.unit_code.strip(), Unit.active.is_(True)))
        if unit_id is None:
            raise Unprocessable.on_field("unit_code", "unknown_unit", "no such unit")
    round_id = sub.round_id if sub.round_id and s.get(Round, sub.round_id) is not None else None
    source = _key(ctx, "address", address)
    _check_challenge(ctx, s, source, sub.challenge_token, sub.challenge_answer)
    now = ctx.now()
    report = ResidentReport(tracking_code=new_code(), category=category, place=place, unit_id=unit_id,
                            round_id=round_id, description=description, contact=contact,
                            status=ResidentReportStatus.RECEIVED, received_at=now, source_key=source)
    report.photos = [ResidentPhoto(content=data, size=len(data), width=w, height=h) for data, w, h in cleaned]
    report.steps = [ResidentReportStep(kind="received", at=now)]
    s.add(report)
    s.flush()
    return report.tracking_code


def _by_code(s: Session, code: str | None, lock: bool = False) -> ResidentReport:
    """The report a code names. An unknown code and a malformed one get the same answer."""
    found = s.scalar(select(ResidentReport).where(ResidentReport.tracking_code == normalise_code(code))) \
        if normalise_code(code) else None
    if found is None:
        raise NotFound("no report has this tracking code", code="report_not_found")
    if lock:
        lock_row(s, ResidentReport, found.id)
        s.refresh(found)
    return found


def public_status(s: Session, code: str | None) -> dict:
    """What the resident reads by the code: the status, the steps (kinds and times, no names), the
    office's reply, and whether they may rate the handling. Never the contact or who handled it."""
    report = _by_code(s, code)
    rated = s.scalar(select(func.count()).select_from(Rating).where(Rating.report_id == report.id)) or 0
    return {"tracking_code": shown_code(report.tracking_code), "status": report.status,
            "category": report.category, "received_at": report.received_at,
            "steps": [{"kind": st.kind, "at": st.at} for st in report.steps],
            "reply": report.reply, "replied_at": report.replied_at,
            "may_rate": report.status == ResidentReportStatus.CLOSED and not rated, "rated": bool(rated)}


def public_status_json(view: dict) -> dict:
    out = {"tracking_code": view["tracking_code"], "status": view["status"], "category": view["category"],
           "received_at": view["received_at"].isoformat(),
           "steps": [{"kind": st["kind"], "at": st["at"].isoformat()} for st in view["steps"]]}
    if view["reply"]:
        out["reply"] = view["reply"]
    return out


# ---------------------------------------------------------------- triage: the office
@dataclass
class ReportRow:
    report: ResidentReport
    unit: str             # the unit the QR code or the resident named
    forwarded_to: str     # the unit it was forwarded to
    round: str


def incoming(s: Session, p: Principal, status: str | None = None, limit: int = 50,
             offset: int = 0) -> tuple[list[ReportRow], int, dict[str, int]]:
    """Reports newest first (of one status when given), with counts by status for the filter."""
    p.require(*access.RESIDENT_TRIAGERS)
    query = select(ResidentReport)
    if status in RESIDENT_REPORT_STATUSES:
        query = query.where(ResidentReport.status == status)
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    reports = list(s.scalars(query.order_by(ResidentReport.received_at.desc(), ResidentReport.id.desc())
                             .limit(limit).offset(offset)))
    counts = {st: n for st, n in s.execute(select(ResidentReport.status, func.count())
                                           .group_by(ResidentReport.status))}
    units = unit_names(s, {r.unit_id for r in reports} | {r.forwarded_unit_id for r in reports})
    names = round_names(s, {r.round_id for r in reports})
    return ([ReportRow(r, units.get(r.unit_id, ""), units.get(r.forwarded_unit_id, ""), names.get(r.round_id, ""))
             for r in reports], total, counts)


def waiting_count(s: Session, p: Principal) -> int:
    """Reports the office has not acted on, or whose unit has answered: for the inbox's notice."""
    if not access.may_triage_reports(p):
        return 0
    return s.scalar(select(func.count()).select_from(ResidentReport).where(ResidentReport.status.in_(
        (ResidentReportStatus.RECEIVED, ResidentReportStatus.HANDLED)))) or 0


@dataclass
class ReportDetail:
    row: ReportRow
    contact: str | None               # for the office only
    rounds: list[Round]               # rounds taking problems, to link to
    units: list[Unit]                 # units to link or forward to
    problem_round: str                # the round of the linked problem
    may_act: bool


def detail(s: Session, p: Principal, report_id: int) -> ReportDetail:
    report = s.get(ResidentReport, report_id)
    if report is None or not access.may_read_resident_report(p, report.forwarded_unit_id):
        raise NotFound(f"resident report {report_id} does not exist", code="not_found")
    units = unit_names(s, {report.unit_id, report.forwarded_unit_id})
    row = ReportRow(report, units.get(report.unit_id, ""), units.get(report.forwarded_unit_id, ""),
                    round_names(s, [report.round_id]).get(report.round_id, ""))
    triager = access.may_triage_reports(p)
    open_rounds = list(s.scalars(select(Round).where(Round.status == RoundStatus.DISCOVERING).order_by(Round.id))) \
        if triager else []
    all_units = list(s.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind.in_(
        ("department", "street", "community", "company"))).order_by(Unit.code))) if triager else []
    problem_round = ""
    if report.problem_id is not None:
        problem = s.get(Problem, report.problem_id)
        problem_round = round_names(s, [problem.round_id]).get(problem.round_id, "") if problem else ""
    return ReportDetail(row, report.contact if access.sees_resident_contact(p) else None, open_rounds, all_units,
                        problem_round, triager)


def photo(s: Session, p: Principal, report_id: int, photo_id: int) -> bytes:
    found = s.get(ResidentPhoto, photo_id)
    report = s.get(ResidentReport, report_id)
    if found is None or report is None or found.report_id != report_id \
            or not access.may_read_resident_report(p, report.forwarded_unit_id):
        raise NotFound(f"photo {photo_id} does not exist")
    return found.content


def _to_triage(s: Session, p: Principal, report_id: int) -> ResidentReport:
    p.require(*access.RESIDENT_TRIAGERS)
    if s.get(ResidentReport, report_id) is None:
        raise NotFound(f"resident report {report_id} does not exist")
    lock_row(s, ResidentReport, report_id)
    report = s.get_one(ResidentReport, report_id, populate_existing=True)
    if report.status == ResidentReportStatus.CLOSED:
        raise Conflict("the report is closed already", code="report_closed")
    return report


def _step(ctx: Context, report: ResidentReport, kind: str, p: Principal | None) -> None:
    report.steps.append(ResidentReportStep(kind=kind, at=ctx.now(), actor_id=p.id if p else None))


def link(ctx: Context, s: Session, p: Principal, report_id: int, round_id: int, unit_id: int | None,
         category: str | None = None) -> ResidentReport:
    """The report becomes a problem of a round that still takes problems, from residents' reports
    (群众反映): it is on the problem list and may go into the common-problem list."""
    report = _to_triage(s, p, report_id)
    if report.problem_id is not None:
        raise Conflict("the report is linked to a problem already", code="report_linked")
    target = unit_id or report.unit_id
    if target is None:
        raise Unprocessable.on_field("unit_id", "unit_required", "choose the unit the problem is about")
    problem = rounds.add_problem(ctx, s, p, round_id, target, report.description,
                                 (category or report.category).strip()[:100] or report.category,
                                 ProblemSource.RESIDENT_REPORT)
    report.problem_id = problem.id
    if report.status == ResidentReportStatus.RECEIVED:
        report.status = ResidentReportStatus.LINKED
    _step(ctx, report, "linked", p)
    audit.record(s, "resident_report_linked", p, f"resident_report:{report.id}",
                 detail={"problem": problem.id, "round": round_id})
    return report


def deadline_at(ctx: Context, deadline: date) -> datetime:
    """The end of the deadline's day in the district."""
    return datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=ctx.zone)


def forward(ctx: Context, s: Session, p: Principal, report_id: int, unit_id: int | None,
            deadline: date | None) -> ResidentReport:
    """交办: the unit's liaison gets a task, due at the end of `deadline`, to handle the report and
    say what was done; the report's text and photos are shown on the task, the contact never."""
    report = _to_triage(s, p, report_id)
    if report.status in (ResidentReportStatus.FORWARDED,):
        raise Conflict("the report is with a unit already", code="report_forwarded")
    if unit_id is None:
        raise Unprocessable.on_field("unit_id", "unit_required", "choose the unit to forward to")
    rounds.require_units(s, [unit_id], "unit_id")
    today = ctx.now().astimezone(ctx.zone).date()
    if deadline is None or deadline <= today:
        raise Unprocessable.on_field("deadline", "deadline_in_past", "a day after today")
    report.forwarded_unit_id, report.forward_deadline = unit_id, deadline
    report.status = ResidentReportStatus.FORWARDED
    instance = workflow.start(ctx, s, p, "resident_report",
                              {"report_id": report.id, "unit_id": unit_id,
                               "deadline_at": deadline_at(ctx, deadline).isoformat()},
                              BusinessKey(KeyKind.RESIDENT_REPORT, report.id), unit_id=unit_id)
    report.process_instance_id = instance.id
    _step(ctx, report, "forwarded", p)
    audit.record(s, "resident_report_forwarded", p, f"resident_report:{report.id}",
                 detail={"unit": unit_id, "deadline": deadline.isoformat()})
    return report


def on_handled(ctx: Context, s: Session, p: Principal | None, report_id: int, event: StepEvent) -> None:
    """The unit said what it did: the office reads it and replies to the resident."""
    report = s.get_one(ResidentReport, report_id)
    report.unit_reply = str(event.data.get("reply") or "")
    if report.status != ResidentReportStatus.CLOSED:
        report.status = ResidentReportStatus.HANDLED
    _step(ctx, report, "handled", p)


def reply(ctx: Context, s: Session, p: Principal, report_id: int, text: str | None) -> ResidentReport:
    """The office's answer to the resident closes the report; the resident reads it by the code."""
    report = _to_triage(s, p, report_id)
    if report.status == ResidentReportStatus.FORWARDED:
        raise Conflict("the unit has not answered yet", code="report_forwarded")
    report.reply = required_text("reply", text, "comment_required", "write the reply", 2000)
    report.replied_at = ctx.now()
    report.status = ResidentReportStatus.CLOSED
    _step(ctx, report, "closed", p)
    audit.record(s, "resident_report_replied", p, f"resident_report:{report.id}")
    return report


def report_json(r: ResidentReport, contact: bool = False) -> dict:
    out = {"id": r.id, "status": r.status, "category": r.category, "place": r.place, "unit_id": r.unit_id,
           "round_id": r.round_id, "description": r.description, "received_at": r.received_at.isoformat(),
           "problem_id": r.problem_id, "forwarded_unit_id": r.forwarded_unit_id,
           "deadline": r.forward_deadline.isoformat() if r.forward_deadline else None,
           "unit_reply": r.unit_reply, "reply": r.reply, "photos": [ph.id for ph in r.photos]}
    if contact:
        out["contact"] = r.contact
    return out


def task_panel(s: Session, p: Principal, report_id: int) -> dict | None:
    """The report as the unit's task page shows it: what, where, when, photos; no contact."""
    report = s.get(ResidentReport, report_id)
    if report is None or not access.may_read_resident_report(p, report.forwarded_unit_id):
        return None
    return {"id": report.id, "category": report.category, "place": report.place,
            "description": report.description, "received_at": report.received_at,
            "deadline": report.forward_deadline, "photos": [ph.id for ph in report.photos]}


# ---------------------------------------------------------------- satisfaction
def device_key(ctx: Context, device: str) -> str:
    return _key(ctx, "device", device)


def rate(ctx: Context, s: Session, *, tracking_code: str | None, item_id: int | None, score, comment: str | None,
         device: str) -> Rating:
    """A rating of a published rectification (one per device and item) or of the handling of one's
    own report (one per code, once the office replied)."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise Unprocessable.on_field("score", "score_out_of_range", "a whole number from 1 to 5")
    text = (comment or "").strip()
    require_lengths(comment=(text, 500))
    if bad_text(text):
        raise Unprocessable.on_field("comment", "unstorable_text", "contains characters that cannot be stored")
    now = ctx.now()
    if tracking_code is not None:
        report = _by_code(s, tracking_code, lock=True)
        if report.status != ResidentReportStatus.CLOSED:
            raise Unprocessable("the report has not been answered yet", code="not_rateable")
        if s.scalar(select(func.count()).select_from(Rating).where(Rating.report_id == report.id)):
            raise Conflict("this report was rated already", code="already_rated")
        problem_round = None
        if report.problem_id is not None:
            problem_round = s.scalar(select(Problem.round_id).where(Problem.id == report.problem_id))
        rating = Rating(report_id=report.id, unit_id=report.forwarded_unit_id or report.unit_id,
                        round_id=problem_round or report.round_id, score=score, comment=text, at=now)
    else:
        from .disclosure import published_item

        item, round_id = published_item(s, item_id)
        key = device_key(ctx, device)
        if s.scalar(select(func.count()).select_from(Rating).where(Rating.item_id == item.id,
                                                                   Rating.device_key == key)):
            raise Conflict("this device rated the item already", code="already_rated")
        rating = Rating(item_id=item.id, unit_id=item.unit_id, round_id=round_id, score=score, comment=text,
                        device_key=key, at=now)
    s.add(rating)
    s.flush()
    return rating


def unit_options(s: Session) -> list[Unit]:
    return list(s.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind.in_(
        ("department", "street", "community", "company"))).order_by(Unit.code)))


def open_rounds(s: Session, p: Principal) -> list[Round]:
    """Rounds not yet closed: each gets a QR code of its own (reports then name the round)."""
    p.require(*access.RESIDENT_TRIAGERS)
    return list(s.scalars(select(Round).where(Round.status != RoundStatus.CLOSED).order_by(Round.id)))
