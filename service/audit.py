"""The audit log (GB/T 22239 security audit): who did what, from where, with what outcome.

Append-only and tamper-evident: every entry is sealed with HMAC-SHA256, under a key kept outside
the database (`Settings.audit_key`), over the previous entry's hash and its own content, and ids
run 1, 2, 3 … without gaps. Changing, deleting or inserting a row breaks the chain, which
`verify` (`rectiflow audit verify`) finds without trusting anything the database says.

`record` appends inside the caller's transaction: the entry commits or rolls back with the change
it describes. `event` appends in a transaction of its own, and `refusals` records a refused
request (a wrong password) that way, after its own transaction rolled back.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import has_request_context, request
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .db import Database
from .errors import ApiError
from .models import AuditEntry, AuditHead

if TYPE_CHECKING:
    from .auth import Principal

HEAD = 1  # the id of the one head row
OK, REFUSED = "ok", "refused"
# Requests refused with these statuses are recorded by `refusals`: the caller was not let in or not allowed.
REFUSAL_STATUSES = (401, 403)


def record(s: Session, action: str, actor: Principal | str | None = None, target: str | None = None, *,
           outcome: str = OK, detail: dict | None = None, address: str | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction. The address is the request's client, when
    there is a request. Appends wait for each other on the head row: keep this the last thing a
    transaction does, so the head is held only until the commit."""
    key = s.info.get("audit_key") or ""
    if not key:
        raise RuntimeError("the audit log has no key: run `rectiflow init-db` once, or set RECTIFLOW_AUDIT_KEY")
    last_id, last_hash = _take_head(s)
    name = actor if actor is None or isinstance(actor, str) else actor.username
    entry = AuditEntry(
        id=last_id + 1, at=datetime.now(UTC), actor=_clip(name, 80),
        address=_clip(address or _client_address(), 64), action=action, target=_clip(target, 200), outcome=outcome,
        detail=detail or {}, prev_hash=last_hash)
    entry.hash = seal(key, last_hash, entry)
    s.add(entry)
    s.execute(update(AuditHead).where(AuditHead.id == HEAD).values(last_id=entry.id, last_hash=entry.hash))
    s.flush()
    return entry


def event(db: Database, action: str, actor: Principal | str | None = None, target: str | None = None, *,
          outcome: str = OK, detail: dict | None = None) -> None:
    """Append one entry in a transaction of its own: for what changes nothing else (a download) or
    what must stay on record although the request fails (a refusal)."""
    address = _client_address()
    db.transaction(lambda s: record(s, action, actor, target, outcome=outcome, detail=detail, address=address))


@contextmanager
def refusals(db: Database, action: str, actor: Principal | str | None = None,
             target: str | None = None) -> Iterator[None]:
    """Inside: a request refused as unauthenticated or forbidden (401, 403) is recorded as `action`
    with outcome "refused" and the error's code, in a transaction of its own, and raised on."""
    try:
        yield
    except ApiError as exc:
        if exc.status in REFUSAL_STATUSES:
            event(db, action, actor, target, outcome=REFUSED, detail={"code": exc.code})
        raise


def canonical(entry: AuditEntry) -> bytes:
    """The entry's own content, as the hash covers it: sorted keys, no spaces, UTF-8."""
    at = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps({"id": entry.id, "at": at, "actor": entry.actor, "address": entry.address,
                       "action": entry.action, "target": entry.target, "outcome": entry.outcome,
                       "detail": entry.detail or {}}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def seal(key: str, prev_hash: str, entry: AuditEntry) -> str:
    return hmac.new(key.encode(), prev_hash.encode() + b"\n" + canonical(entry), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Verdict:
    count: int                 # entries checked
    bad_id: int | None = None  # the first entry that does not hold, None when the chain is whole
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_id is None


def verify(s: Session, key: str) -> Verdict:
    """Walk the chain in id order and recompute every hash. The first entry that does not hold is
    named: one altered (or written without the key), one whose predecessor is missing (an id gap),
    one that does not follow the entry before it, or the end of the chain against the head row."""
    expected, prev, count = 1, "", 0
    rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=500))
    for entry in rows:
        if entry.id != expected:
            return Verdict(count, entry.id, f"the chain breaks before entry {entry.id}: "
                                            f"entry {expected}{'' if entry.id == expected + 1 else f'–{entry.id - 1}'}"
                                            " is missing")
        if entry.prev_hash != prev:
            return Verdict(count, entry.id, f"entry {entry.id} does not follow the entry before it")
        if not hmac.compare_digest(entry.hash, seal(key, prev, entry)):
            return Verdict(count, entry.id, f"entry {entry.id} was altered, or not written with this audit key")
        prev, expected, count = entry.hash, expected + 1, count + 1
    head = s.execute(select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == HEAD)).one_or_none()
    last_id, last_hash = head if head is not None else (0, "")
    if last_id > count:
        return Verdict(count, count + 1, f"the chain ends at entry {count}, but entries up to {last_id} were written")
    if last_id < count or last_hash != prev:
        return Verdict(count, last_id + 1 if last_id < count else count,
                       f"the chain does not end where the head row says (entry {last_id})")
    return Verdict(count)


def entry_json(e: AuditEntry, zone) -> dict:
    return {"id": e.id, "at": e.at.astimezone(zone).isoformat(), "actor": e.actor, "address": e.address,
            "action": e.action, "target": e.target, "outcome": e.outcome, "detail": e.detail,
            "prev_hash": e.prev_hash, "hash": e.hash}


def search(s: Session, *, action: str | None = None, actor: str | None = None, limit: int = 50,
           offset: int = 0) -> tuple[list[AuditEntry], int]:
    """Entries newest first, filtered by action and actor; the caller checks who may read them."""
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(s.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))), total


def _take_head(s: Session) -> tuple[int, str]:
    """Lock the head row (made on the first append) for the rest of the transaction; its id and hash.
    Writing the row to itself takes the lock on either database: the row lock on PostgreSQL, the
    write lock on SQLite."""
    take = (update(AuditHead).where(AuditHead.id == HEAD).values(last_id=AuditHead.last_id)
            .returning(AuditHead.last_id, AuditHead.last_hash))
    row = s.execute(take).first()
    if row is None:
        insert = postgresql_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        s.execute(insert(AuditHead).values(id=HEAD, last_id=0, last_hash="").on_conflict_do_nothing())
        row = s.execute(take).one()
    return row[0], row[1]


def _client_address() -> str | None:
    return request.remote_addr if has_request_context() else None


def _clip(text: str | None, limit: int) -> str | None:
    return text[:limit] if text is not None else None
