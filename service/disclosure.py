"""整改公开: a round's rectification, disclosed to residents on a public page.

The office drafts the page from the round's records (each unit's rectification of each common
problem: its status and its measures), chooses the lines to show, words the measures for the public
and approves the page; only then is it public, and it shows copies of those words, so later work on
a case never changes a published page by itself. What is never disclosed: clue content, evidence
files and personal data. The office's words are checked against the round's clues and evidence file
names and for telephone and identity-card numbers before they are saved, and the public page is
built only from the disclosure's own rows (common-problem titles, unit names, statuses, measures).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import access, audit
from .auth import Principal
from .context import Context
from .db import lock_row
from .errors import NotFound, Unprocessable
from .models import (
    Case,
    Clue,
    CommonProblem,
    Disclosure,
    DisclosureItem,
    Evidence,
    ItemStatus,
    Rating,
    RectificationItem,
    Round,
)
from .organisation import unit_names
from .validation import bad_text, require_lengths

# Telephone numbers (mobile and fixed with area code) and identity-card numbers: personal data.
PERSONAL = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{17}[\dXx])(?!\d)")


@dataclass
class Line:
    """One unit's rectification of one common problem: what the records say, and what is chosen."""

    common_problem_id: int
    unit_id: int
    unit: str
    status: str
    measures: str       # as chosen (or, before anything is saved, the unit's measures joined)
    shown: bool


@dataclass
class Editor:
    round: Round
    disclosure: Disclosure | None
    commons: list[CommonProblem]
    lines: list[Line]


def _round(s: Session, round_id: int) -> Round:
    rnd = s.get(Round, round_id)
    if rnd is None:
        raise NotFound(f"round {round_id} does not exist", code="unknown_round")
    return rnd


def editor(s: Session, p: Principal, round_id: int) -> Editor:
    """The draft: every (common problem, unit) the round's cases rectify, with what was saved for it."""
    p.require(*access.DISCLOSURE_KEEPERS)
    rnd = _round(s, round_id)
    disclosure = s.scalar(select(Disclosure).where(Disclosure.round_id == round_id))
    saved = {(i.common_problem_id, i.unit_id): i for i in (disclosure.items if disclosure else [])}
    commons = list(s.scalars(select(CommonProblem).where(CommonProblem.round_id == round_id)
                             .order_by(CommonProblem.id)))
    rows = s.execute(select(RectificationItem, Case.unit_id).join(Case, Case.id == RectificationItem.case_id)
                     .where(Case.round_id == round_id).order_by(RectificationItem.common_problem_id, Case.unit_id)
                     ).all()
    names = unit_names(s, {unit_id for _, unit_id in rows})
    lines = []
    for item, unit_id in rows:
        kept = saved.get((item.common_problem_id, unit_id))
        measures = kept.measures if kept else "；".join(m.description for m in item.measures)
        lines.append(Line(item.common_problem_id, unit_id, names.get(unit_id, ""), item.status, measures,
                          bool(kept and kept.shown)))
    return Editor(rnd, disclosure, commons, lines)


def _sensitive(s: Session, round_id: int, text: str) -> str | None:
    """What in `text` must never be disclosed: a clue's words, an evidence file's name, personal data."""
    if PERSONAL.search(text):
        return "personal"
    for summary, content in s.execute(select(Clue.summary, Clue.content).where(Clue.round_id == round_id)):
        for secret in (summary, content):
            if secret and len(secret.strip()) >= 4 and secret.strip() in text:
                return "clue"
    for (name,) in s.execute(select(Evidence.filename).join(Case, Case.id == Evidence.case_id)
                             .where(Case.round_id == round_id)):
        stem = name.rsplit(".", 1)[0]
        if name in text or (len(stem) >= 4 and stem in text):
            return "evidence"
    return None


def save(ctx: Context, s: Session, p: Principal, round_id: int, introduction: str, chosen: list[dict],
         publish: bool | None) -> Disclosure:
    """The office's choice: `chosen` rows `{"common_problem_id", "unit_id", "shown", "measures"}`
    (the measures as worded for the public); `publish` True approves and publishes, False withdraws,
    None keeps the page as it is. Refused whole when any shown text holds what is never disclosed."""
    p.require(*access.DISCLOSURE_KEEPERS)
    rnd = _round(s, round_id)
    if rnd.published_at is None:
        raise Unprocessable("the round's list is not published yet", code="disclosure_not_ready")
    introduction = (introduction or "").strip()
    require_lengths(introduction=(introduction, 2000))
    statuses = {(c, u): st for st, c, u in s.execute(
        select(RectificationItem.status, RectificationItem.common_problem_id, Case.unit_id)
        .join(Case, Case.id == RectificationItem.case_id).where(Case.round_id == round_id))}
    errors: list[dict] = []
    for index, row in enumerate(chosen):
        key = (row.get("common_problem_id"), row.get("unit_id"))
        text = str(row.get("measures") or "").strip()
        if key not in statuses:
            errors.append({"field": f"items.{index}", "code": "item_unknown", "message": "not a line of this round"})
        elif len(text) > 2000:
            errors.append({"field": f"items.{index}.measures", "code": "too_long", "message": "at most 2000 characters",
                           "limit": 2000})
        elif bad_text(text):
            errors.append({"field": f"items.{index}.measures", "code": "unstorable_text", "message": "cannot be stored"})
        elif row.get("shown") and (what := _sensitive(s, round_id, text)):
            errors.append({"field": f"items.{index}.measures", "code": "disclosure_sensitive",
                           "message": f"holds {what} data, which is never disclosed"})
    if introduction and _sensitive(s, round_id, introduction):
        errors.append({"field": "introduction", "code": "disclosure_sensitive", "message": "holds data never disclosed"})
    if errors:
        raise Unprocessable("some lines cannot be disclosed", errors, code=errors[0]["code"])
    if publish and not any(row.get("shown") for row in chosen):
        raise Unprocessable.on_field("items", "disclosure_empty", "choose at least one line")
    disclosure = s.scalar(select(Disclosure).where(Disclosure.round_id == round_id))
    now = ctx.now()
    if disclosure is None:
        disclosure = Disclosure(round_id=round_id, updated_at=now)
        s.add(disclosure)
        s.flush()
    lock_row(s, Disclosure, disclosure.id)
    kept = {(i.common_problem_id, i.unit_id): i for i in disclosure.items}
    for position, row in enumerate(chosen):
        key = (int(row["common_problem_id"]), int(row["unit_id"]))
        item = kept.get(key)
        if item is None:
            item = DisclosureItem(common_problem_id=key[0], unit_id=key[1])
            disclosure.items.append(item)
        item.position, item.shown = position, bool(row.get("shown"))
        item.measures, item.status = str(row.get("measures") or "").strip(), statuses[key]
    disclosure.introduction, disclosure.updated_at = introduction, now
    if publish is True:
        disclosure.published_at, disclosure.approved_by = now, p.id
    elif publish is False:
        disclosure.published_at = None
    action = {True: "disclosure_published", False: "disclosure_withdrawn", None: "disclosure_saved"}[publish]
    audit.record(s, action, p, f"disclosure:{disclosure.id}",
                 detail={"round": round_id, "shown": sum(1 for row in chosen if row.get("shown"))})
    return disclosure


def published_list(s: Session) -> list[dict]:
    """The published disclosures, newest first: the public index."""
    rows = s.execute(select(Disclosure.id, Round.name, Disclosure.published_at)
                     .join(Round, Round.id == Disclosure.round_id)
                     .where(Disclosure.published_at.is_not(None)).order_by(Disclosure.published_at.desc())).all()
    return [{"id": i, "round": name, "published_at": at} for i, name, at in rows]


def public_page(s: Session, disclosure_id: int) -> dict:
    """A published disclosure as the public reads it: built from the disclosure's own rows alone."""
    disclosure = s.get(Disclosure, disclosure_id)
    if disclosure is None or disclosure.published_at is None:
        raise NotFound("no such disclosure")
    rnd = s.get_one(Round, disclosure.round_id)
    shown = [i for i in disclosure.items if i.shown]
    titles = dict(s.execute(select(CommonProblem.id, CommonProblem.title)
                            .where(CommonProblem.id.in_({i.common_problem_id for i in shown}))).all())
    names = unit_names(s, {i.unit_id for i in shown})
    scores = {item_id: (float(avg), n) for item_id, avg, n in cast(list[tuple[int, float, int]], s.execute(
        select(Rating.item_id, func.avg(Rating.score), func.count())
        .where(Rating.item_id.in_([i.id for i in shown])).group_by(Rating.item_id)).all())}
    groups: dict[int, dict] = {}
    for item in shown:
        group = groups.setdefault(item.common_problem_id, {"title": titles.get(item.common_problem_id, ""), "items": []})
        avg, n = scores.get(item.id, (None, 0))
        group["items"].append({"id": item.id, "unit": names.get(item.unit_id, ""), "status": item.status,
                               "measures": item.measures, "score": round(avg, 1) if avg is not None else None,
                               "ratings": n})
    done = sum(1 for i in shown if i.status == ItemStatus.DONE)
    return {"id": disclosure.id, "round": rnd.name, "introduction": disclosure.introduction,
            "published_at": disclosure.published_at, "groups": list(groups.values()),
            "counts": {"items": len(shown), "done": done,
                       "units": len({i.unit_id for i in shown})}}


def published_item(s: Session, item_id: int | None) -> tuple[DisclosureItem, int]:
    """An item shown on a published disclosure (what residents may rate), with its round."""
    item = s.get(DisclosureItem, item_id) if isinstance(item_id, int) else None
    disclosure = s.get(Disclosure, item.disclosure_id) if item is not None else None
    if item is None or disclosure is None or not item.shown or disclosure.published_at is None:
        raise NotFound("no such published item", code="not_rateable")
    return item, disclosure.round_id
