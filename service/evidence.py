"""Evidence files (佐证材料): kept with their SHA-256, size and uploader; type and size limited."""
from __future__ import annotations

import hashlib
import re
from datetime import date

from flask import Response
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from workflows.tables import HumanTask, ProcessInstance

from . import access, audit, downloads, measures
from .auth import Principal
from .cases import get_case
from .context import Context
from .db import lock_row
from .errors import Conflict, Forbidden, NotFound, TooLarge, Unprocessable
from .models import (
    BusinessKey,
    Case,
    CommonProblem,
    Evidence,
    EvidenceBlob,
    Filing,
    KeyKind,
    Measure,
    RectificationItem,
)
from .validation import MAX_INT

# The steps during which a unit gathers evidence: while it rectifies and when its head files.
UPLOAD_STEPS = ("rectify", "attest_and_file", "reply_tracking_letter")  # a tracking letter's reply may bring evidence

_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff ]+")
# Magic numbers of the formats we accept, so a renamed executable is not filed as a PDF.
_SIGNATURES = {
    "pdf": [b"%PDF-"], "png": [b"\x89PNG\r\n\x1a\n"], "jpg": [b"\xff\xd8\xff"], "jpeg": [b"\xff\xd8\xff"],
    "docx": [b"PK\x03\x04"], "xlsx": [b"PK\x03\x04"], "zip": [b"PK\x03\x04"], "ofd": [b"PK\x03\x04"],
    "doc": [b"\xd0\xcf\x11\xe0"], "xls": [b"\xd0\xcf\x11\xe0"],
}
_CONTENT_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "txt": "text/plain; charset=utf-8", "zip": "application/zip", "ofd": "application/ofd",
    "doc": "application/msword", "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


MAX_FILENAME = 200


def clean_filename(name: str) -> str:
    """The base name with only safe characters, at most MAX_FILENAME long; a long name is shortened
    before its extension, which says what the file is."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _SAFE_NAME.sub("_", name).strip(" .")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16:
            name = stem[:MAX_FILENAME - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_FILENAME]
    return name or "file"


def accepts_evidence(s: Session, case: Case) -> bool:
    """A case takes evidence while one of its upload steps is open, and never once closed."""
    return case.status != "closed" and bool(s.scalar(select(exists().where(
        HumanTask.business_key == str(BusinessKey(KeyKind.CASE, case.id)), HumanTask.state == "open",
        HumanTask.step.in_(UPLOAD_STEPS)))))


def upload(ctx: Context, s: Session, p: Principal, case_id: int, filename: str, content: bytes,
           item_id: int | None, effective_date: date | None = None, common_problem_id: int | None = None,
           measure_id: int | None = None) -> Evidence:
    case = get_case(s, p, case_id)
    if not access.may_upload_evidence(p, case):
        raise Forbidden("only the unit's liaison or head upload its evidence", code="evidence_not_yours")
    measure = _followed_measure(s, case, measure_id) if measure_id is not None else None
    # Take the case's process first: a step completing now (the head filing) either finishes
    # before the check below sees the case, or waits until this upload is in.
    instance_id = measure.followup_instance_id if measure is not None else case.process_instance_id
    if instance_id is not None:
        lock_row(s, ProcessInstance, instance_id)
    if measure is not None:
        # a measure followed after close-out takes evidence while its report task is open
        if not measures.open_followup_task(s, measure.id):
            raise Unprocessable(f"measure {measure.id} takes evidence while the unit's task to report it done "
                                "is open", code="evidence_not_open", status=measure.followup or "")
        item_id, common_problem_id = measure.item_id, None
    elif not accepts_evidence(s, case):
        raise Unprocessable(f"case {case_id} takes evidence while the unit rectifies or files, not when it is "
                            f"{case.status}", code="evidence_not_open", status=case.status)
    name = clean_filename(filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ctx.settings.evidence_types:
        raise Unprocessable.on_field("file", "file_type_refused", f"allowed: {', '.join(ctx.settings.evidence_types)}",
                                     f"files of type .{ext or '?'} are not accepted", ext=ext,
                                     types=", ".join(ctx.settings.evidence_types))
    limit = ctx.settings.max_upload_mb * 1024 * 1024
    if len(content) > limit:
        raise TooLarge(f"the file is larger than {ctx.settings.max_upload_mb} MB", code="file_too_large",
                       limit_mb=ctx.settings.max_upload_mb)
    if not content:
        raise Unprocessable.on_field("file", "file_empty", "empty file", "the file is empty")
    signatures = _SIGNATURES.get(ext)
    if signatures and not any(content.startswith(sig) for sig in signatures):
        raise Unprocessable.on_field("file", "file_content_mismatch", "content does not match its type",
                                     f"the file's content is not a .{ext} file", ext=ext)
    if ext == "txt":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise Unprocessable.on_field("file", "file_not_utf8", "not UTF-8 text",
                                         "a .txt file must be UTF-8 text") from None
    item_id, common_problem_id = _label(s, case, item_id, common_problem_id)
    digest = hashlib.sha256(content).hexdigest()
    if s.get(EvidenceBlob, digest) is None:
        s.add(EvidenceBlob(sha256=digest, size=len(content), content=content))
        s.flush()  # the blob row must exist before the evidence row that points at it
    evidence = Evidence(case_id=case.id, item_id=item_id, common_problem_id=common_problem_id,
                        measure_id=measure.id if measure is not None else None, filename=name,
                        content_type=_CONTENT_TYPES.get(ext, "application/octet-stream"), size=len(content),
                        sha256=digest, uploaded_by=p.id, uploaded_at=ctx.now(), effective_date=effective_date,
                        reviews=[])
    s.add(evidence)
    s.flush()
    audit.record(s, "evidence_uploaded", p, f"case:{case.id}", detail={"evidence": evidence.id, "sha256": digest})
    return evidence


def _label(s: Session, case: Case, item_id: int | None, common_problem_id: int | None) -> tuple[int | None, int | None]:
    """Which common problem a file is for, named by its item or by the common problem itself (before
    the unit's first rectification report there are no items): both point at the same one."""
    if item_id is not None:
        # an id past what the databases hold names no item (and would fail the query)
        item = s.get(RectificationItem, item_id) if -MAX_INT <= item_id <= MAX_INT else None
        if item is None or item.case_id != case.id:
            raise Unprocessable.on_field("item_id", "unknown_item", f"unknown item {item_id}",
                                         "item_id is not an item of this case")
        if common_problem_id is not None and common_problem_id != item.common_problem_id:
            raise Unprocessable.on_field("common_problem_id", "item_unknown", "not the item's common problem",
                                         "common_problem_id is not the common problem of item_id")
        return item.id, item.common_problem_id
    if common_problem_id is None:
        return None, None
    cp = s.get(CommonProblem, common_problem_id) if -MAX_INT <= common_problem_id <= MAX_INT else None
    if cp is None or cp.round_id != case.round_id:
        raise Unprocessable.on_field("common_problem_id", "item_unknown", f"unknown common problem {common_problem_id}",
                                     "common_problem_id is not on this case's list")
    item = s.scalar(select(RectificationItem).where(RectificationItem.case_id == case.id,
                                                    RectificationItem.common_problem_id == cp.id))
    return (item.id if item is not None else None), cp.id


def _followed_measure(s: Session, case: Case, measure_id: int) -> Measure:
    """The measure a file is evidence for: one of this case's, followed up after close-out."""
    measure = s.get(Measure, measure_id) if -MAX_INT <= measure_id <= MAX_INT else None
    item = s.get(RectificationItem, measure.item_id) if measure is not None else None
    if measure is None or item is None or item.case_id != case.id or measure.followup_instance_id is None:
        raise Unprocessable.on_field("measure_id", "measure_unknown", f"unknown measure {measure_id}",
                                     "measure_id is not a followed-up measure of this case")
    return measure


def evidence_json(e: Evidence, ctx: Context) -> dict:
    return {"id": e.id, "case_id": e.case_id, "item_id": e.item_id, "common_problem_id": e.common_problem_id,
            "measure_id": e.measure_id,
            "filename": e.filename, "size": e.size,
            "sha256": e.sha256, "content_type": e.content_type, "uploaded_by": e.uploaded_by,
            "uploaded_at": ctx.local_iso(e.uploaded_at),
            "effective_date": e.effective_date.isoformat() if e.effective_date else None,
            "review": e.review, "review_comment": e.review_comment,  # the latest review
            "reviewed_by": e.reviewed_by, "reviewed_at": ctx.local_iso(e.reviewed_at) if e.reviewed_at else None,
            "reviews": [{"result": r.result, "comment": r.comment, "reviewed_by": r.reviewed_by,
                         "reviewed_at": ctx.local_iso(r.reviewed_at) if r.reviewed_at else None}
                        for r in e.reviews]}


def download(row: Evidence, content: bytes) -> Response:
    """A file as an attachment, never rendered inline: evidence is whatever a unit uploaded."""
    return Response(content, mimetype=row.content_type, headers={
        "Content-Disposition": downloads.disposition(row.filename, downloads.fallback_name(f"evidence-{row.id}", row.filename)),
        "X-Content-Type-Options": "nosniff", "X-Evidence-SHA256": row.sha256})


def _removable_or_refuse(s: Session, p: Principal, evidence: Evidence) -> Case:
    """The rule for taking a file back: the unit's own liaison or head, while the case takes
    evidence, and only a file added since the case was last filed (a filed file stays on record)."""
    case = get_case(s, p, evidence.case_id)
    if not access.may_upload_evidence(p, case):
        raise Forbidden("only the unit's liaison or head remove or replace its evidence", code="evidence_not_yours")
    if case.process_instance_id is not None:
        lock_row(s, ProcessInstance, case.process_instance_id)
    if not removable(s, case, evidence):
        raise Conflict(f"evidence {evidence.id} was filed and stays on record", code="evidence_locked")
    return case


def removable(s: Session, case: Case, evidence: Evidence) -> bool:
    """Not yet filed: the case takes evidence now, the file came after the case's last filing, and
    nobody has reviewed it."""
    if evidence.reviews or evidence.review is not None or not accepts_evidence(s, case):
        return False
    last_filed = s.scalar(select(func.max(Filing.filed_at)).where(Filing.case_id == case.id))
    return last_filed is None or evidence.uploaded_at > last_filed


def removable_ids(s: Session, case: Case, rows: list[Evidence]) -> set[int]:
    """The files of a case that may still be taken back (see `removable`), in two queries."""
    if not rows or not accepts_evidence(s, case):
        return set()
    last_filed = s.scalar(select(func.max(Filing.filed_at)).where(Filing.case_id == case.id))
    return {e.id for e in rows if not e.reviews and e.review is None
            and (last_filed is None or e.uploaded_at > last_filed)}


def remove(ctx: Context, s: Session, p: Principal, evidence_id: int) -> Evidence:
    """Take back a file uploaded by mistake, until the case is filed (never after)."""
    evidence = s.get(Evidence, evidence_id) if -MAX_INT <= evidence_id <= MAX_INT else None
    if evidence is None:
        raise NotFound(f"evidence {evidence_id} does not exist")
    case = _removable_or_refuse(s, p, evidence)
    s.delete(evidence)
    s.flush()
    audit.record(s, "evidence_removed", p, f"case:{case.id}",
                 detail={"evidence": evidence_id, "sha256": evidence.sha256})
    return evidence


def replace(ctx: Context, s: Session, p: Principal, evidence_id: int, filename: str, content: bytes,
            item_id: int | None = None, common_problem_id: int | None = None) -> Evidence:
    """A new file in place of one not yet filed: uploaded under the same item unless another is
    named, then the old one removed, in one transaction."""
    old = s.get(Evidence, evidence_id) if -MAX_INT <= evidence_id <= MAX_INT else None
    if old is None:
        raise NotFound(f"evidence {evidence_id} does not exist")
    _removable_or_refuse(s, p, old)
    named = item_id is not None or common_problem_id is not None  # else the new file keeps the old one's label
    new = upload(ctx, s, p, old.case_id, filename, content, item_id if named else old.item_id, old.effective_date,
                 common_problem_id if named else old.common_problem_id)
    remove(ctx, s, p, evidence_id)
    return new


# Formats shown inside the page, recognised by their content, never by name or declared type alone.
_PREVIEWABLE = {"application/pdf": b"%PDF-", "image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def preview_type(row: Evidence, content: bytes) -> str | None:
    """The type a file is shown inline as: a PDF, PNG or JPEG whose content is one; else None."""
    for mimetype, magic in _PREVIEWABLE.items():
        if row.content_type == mimetype and content.startswith(magic):
            return mimetype
    return None


def previewable(row: Evidence) -> str | None:
    """What the page offers to preview (by stored type; the preview itself checks the content)."""
    if row.content_type.startswith("image/"):
        return "image"
    return "pdf" if row.content_type == "application/pdf" else None


def inline(row: Evidence, content: bytes) -> Response:
    """An image or PDF for the page's preview: inline, in a sandbox (no script, no same origin), and
    only after its content proved to be what it claims; anything else is refused."""
    mimetype = preview_type(row, content)
    if mimetype is None:
        raise Unprocessable("only images and PDF files are previewed", code="preview_unavailable")
    return Response(content, mimetype=mimetype, headers={
        "Content-Disposition": downloads.disposition(
            row.filename, downloads.fallback_name(f"evidence-{row.id}", row.filename), inline=True),
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; object-src 'self'; "
                                   "frame-ancestors 'self'",
        "X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store", "X-Evidence-SHA256": row.sha256})
