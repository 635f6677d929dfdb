"""The audit log (GB/T 22239 security audit): who did what, from where, with what outcome.

Append-only and tamper-evident: every entry is sealed with HMAC-SHA256, under a key kept outside
the database (`Settings.audit_key`), over the previous entry's hash and its own content, and ids
run 1, 2, 3 … without gaps. Changing, deleting or inserting a row breaks the chain, which
`verify` (`rectiflow audit verify`) finds without trusting anything the database says.

`record` appends inside the caller's transaction: the entry commits or rolls back with the change
it describes, and is numbered and sealed as that transaction commits, so concurrent requests wait
for each other on the chain's head only for the length of a commit. `event` appends in a
transaction of its own, and `refusals` records a refused request (a wrong password) that way,
after its own transaction rolled back.

Entries are kept for the retention (`RECTIFLOW_AUDIT_RETENTION_DAYS`, at least 180 days) and then
removed by `prune` (`rectiflow audit prune`), from the start of the chain only: the head row keeps
the id and hash of the last entry removed (the base), and a sealed `audit_pruned` entry names that
base, so `verify` starts from it and still tells a prune from rows deleted by hand.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, cast

from flask import has_request_context, request
from sqlalchemy import CursorResult, bindparam, delete, func, insert, select, true, update
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .db import UNSYNCED, Database
from .errors import ApiError
from .models import AuditEntry, AuditHead

if TYPE_CHECKING:
    from .auth import Principal

HEAD = 1  # the id of the one head row
OK, REFUSED = "ok", "refused"
OUTCOMES = (OK, REFUSED)
PENDING = "audit_pending"  # the session's entries to seal as it commits
PRUNED = "audit_pruned"  # the sealed entry that names the base of a prune
# Requests refused with these statuses are recorded by `refusals`: the caller was not let in or not allowed.
REFUSAL_STATUSES = (401, 403)
COLUMNS = tuple(column.key for column in AuditEntry.__table__.columns)
# PostgreSQL: an entry appended and the head moved to it, in one statement, made once (SQLAlchemy then
# compiles it once); its parameters are named apart from the tables' columns, which would be set from them
_APPEND_MOVING_HEAD = insert(AuditEntry).values({c: bindparam(f"entry_{c}") for c in COLUMNS}).add_cte(
    update(AuditHead).where(AuditHead.id == HEAD)
    .values(last_id=bindparam("head_id"), last_hash=bindparam("head_hash")).cte("moved_head"))


def record(s: Session, action: str, actor: Principal | str | None = None, target: str | None = None, *,
           outcome: str = OK, detail: dict | None = None, address: str | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction. The address is the request's client, when
    there is a request. The entry is numbered and sealed as the transaction commits (`seal_pending`):
    appends wait for each other on the head row, and so hold it only for the commit, not for the
    whole of the work they describe."""
    if not s.info.get("audit_key"):
        raise RuntimeError("the audit log has no key: run `rectiflow init-db` once, or set RECTIFLOW_AUDIT_KEY")
    name = actor if actor is None or isinstance(actor, str) else actor.username
    entry = AuditEntry(actor=_clip(name, 80), address=_clip(address or _client_address(), 64), action=action,
                       target=_clip(target, 200), outcome=outcome, detail=detail or {})
    s.info.setdefault(PENDING, []).append(entry)
    return entry


@sa_event.listens_for(Session, "before_commit")
def seal_pending(s: Session) -> None:
    """Number and seal the entries the transaction appended, in the order it appended them, at the
    time of the commit, after the last entry of the chain; the head row stays locked until the
    commit ends."""
    pending = s.info.pop(PENDING, None)
    if not pending:
        return
    key = s.info["audit_key"]
    last_id, last_hash = _take_head(s)
    at = _now(s)
    rows = []
    for entry in pending:
        entry.id, entry.at, entry.prev_hash = last_id + 1, at, last_hash
        entry.hash = seal(key, last_hash, entry)
        rows.append({column: getattr(entry, column) for column in COLUMNS})
        last_id, last_hash = entry.id, entry.hash
    if s.get_bind().dialect.name == "postgresql":  # the last entry and the head's move in one round trip
        *earlier, last = rows
        if earlier:
            s.execute(insert(AuditEntry), earlier)
        s.execute(_APPEND_MOVING_HEAD, {**{f"entry_{c}": v for c, v in last.items()},
                                        "head_id": last_id, "head_hash": last_hash})
    else:
        s.execute(insert(AuditEntry), rows)
        s.execute(update(AuditHead).where(AuditHead.id == HEAD).values(last_id=last_id, last_hash=last_hash),
                  execution_options=UNSYNCED)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_pending(s: Session, previous_transaction) -> None:
    """What a rolled-back transaction appended is not on record: the work it describes did not happen."""
    s.info.pop(PENDING, None)


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
    reason: str = ""           # why, in English (the command line)
    why: str = ""              # why, as a code the pages word: see `verify`
    values: dict = field(default_factory=dict)  # what the reason names, for the pages' words
    base_id: int = 0           # the chain starts after this entry (0: from the first)

    @property
    def ok(self) -> bool:
        return self.bad_id is None


def verify(s: Session, key: str) -> Verdict:
    """Walk the chain in id order from its base and recompute every hash. The first entry that does
    not hold is named, with `why`: one altered or written without the key (`altered`), one whose
    predecessor is missing (`missing`), one that does not follow the entry before it
    (`not_following`), one left before the recorded base (`before_base`), the end of the chain
    against the head row (`cut_short`, `head_mismatch`), or a base no sealed prune entry names
    (`unsealed_base`: entries removed by hand, and the head row moved to hide it).

    The service goes on appending (and perhaps pruning) meanwhile, so the head row is read in the
    same statement as the entries: both come from one snapshot of the database."""
    head_columns = (AuditHead.last_id, AuditHead.last_hash, AuditHead.base_id, AuditHead.base_hash)
    together = (select(AuditEntry, *head_columns).select_from(AuditHead).outerjoin(AuditEntry, true())
                .where(AuditHead.id == HEAD).order_by(AuditEntry.id).execution_options(yield_per=500))
    rows = iter(s.execute(together))
    first = next(rows, None)
    if first is None:  # no head row: nothing was ever appended, or it was deleted
        alone = s.scalars(select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=500))
        return _walk(key, (0, "", 0, ""), iter(alone))
    head = (first[1], first[2], first[3] or 0, first[4] or "")
    entries = (row[0] for row in itertools.chain([first], rows) if row[0] is not None)
    return _walk(key, head, entries)


def _walk(key: str, head: tuple[int, str, int, str], rows: Iterator[AuditEntry]) -> Verdict:
    base_id, base_hash = head[2], head[3]
    expected, prev, count, sealed = base_id + 1, base_hash, 0, base_id == 0

    def broken(bad_id: int, why: str, reason: str, **values) -> Verdict:
        return Verdict(count, bad_id, reason, why, {"id": bad_id, **values}, base_id)

    for entry in rows:
        if entry.id < expected:
            return broken(entry.id, "before_base", f"entry {entry.id} lies before the start of the chain the head "
                                                   f"row records (after entry {base_id})", base=base_id)
        if entry.id != expected:
            missing = f"{expected}" if entry.id == expected + 1 else f"{expected}–{entry.id - 1}"
            return broken(entry.id, "missing", f"the chain breaks before entry {entry.id}: "
                                               f"entry {missing} is missing", missing=missing)
        if entry.prev_hash != prev:
            return broken(entry.id, "not_following", f"entry {entry.id} does not follow the entry before it")
        if not hmac.compare_digest(entry.hash, seal(key, prev, entry)):
            return broken(entry.id, "altered", f"entry {entry.id} was altered, or not written with this audit key")
        if entry.action == PRUNED and (entry.detail or {}).get("base_id") == base_id \
                and (entry.detail or {}).get("base_hash") == base_hash:
            sealed = True
        prev, expected, count = entry.hash, expected + 1, count + 1
    last_id, last_hash = head[0], head[1]
    end = expected - 1  # the last entry walked (the base when there was none)
    if last_id > end:
        return broken(end + 1, "cut_short", f"the chain ends at entry {end}, but entries up to {last_id} were written",
                      end=end, last=last_id)
    if last_id < end or last_hash != prev:
        return broken(last_id + 1 if last_id < end else end, "head_mismatch",
                      f"the chain does not end where the head row says (entry {last_id})", last=last_id)
    if not sealed:
        return broken(base_id + 1, "unsealed_base", f"entries up to {base_id} were removed, but no sealed "
                                                    f"{PRUNED} entry names that cut", base=base_id)
    return Verdict(count, base_id=base_id)


@dataclass(frozen=True)
class Pruned:
    count: int         # entries removed
    base_id: int       # the chain now starts after this entry
    cutoff: datetime   # entries before this moment were due
    entry: AuditEntry | None = None  # the sealed audit_pruned entry; None when nothing was due


class Broken(Exception):
    """The chain does not verify, so it is left as it is."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.reason)
        self.verdict = verdict


def prune(s: Session, key: str, cutoff: datetime, retention_days: int,
          actor: Principal | str | None = None) -> Pruned:
    """Remove the entries older than `cutoff` from the start of the chain, up to the first younger
    one (an entry younger than the cut-off is never removed, nor anything after it). The head row
    records the last entry removed as the chain's new base and a sealed `audit_pruned` entry names
    it, with the count and the cut-off. A chain that does not verify raises Broken and nothing is
    removed: a prune must not carry a break away with the old rows, nor seal what follows it."""
    verdict = verify(s, key)
    if not verdict.ok:
        raise Broken(verdict)
    last_id, _ = _take_head(s)  # appends wait from here until the commit
    base_id = s.scalar(select(AuditHead.base_id).where(AuditHead.id == HEAD)) or 0
    first_young = s.scalar(select(func.min(AuditEntry.id)).where(AuditEntry.at >= cutoff))
    # no further than the verified part of the chain: what was appended since is younger anyway
    upto = min(last_id if first_young is None else first_young - 1, verdict.base_id + verdict.count)
    if upto <= base_id:
        return Pruned(0, base_id, cutoff)
    base = s.get(AuditEntry, upto, populate_existing=True)
    if base is None or not hmac.compare_digest(base.hash, seal(key, base.prev_hash, base)):
        raise RuntimeError(f"audit log entry {upto} changed while it was pruned; nothing was removed")
    count = cast(CursorResult, s.execute(delete(AuditEntry).where(AuditEntry.id <= upto))).rowcount
    s.execute(update(AuditHead).where(AuditHead.id == HEAD).values(base_id=upto, base_hash=base.hash))
    entry = record(s, PRUNED, actor, "audit-log", detail={
        "base_id": upto, "base_hash": base.hash, "count": count, "retention_days": retention_days,
        "cutoff": cutoff.astimezone(UTC).isoformat(timespec="seconds")})
    seal_pending(s)  # numbered now, for the caller to name
    return Pruned(count, upto, cutoff, entry)


def entry_json(e: AuditEntry, zone) -> dict:
    return {"id": e.id, "at": e.at.astimezone(zone).isoformat(), "actor": e.actor, "address": e.address,
            "action": e.action, "target": e.target, "outcome": e.outcome, "detail": e.detail,
            "prev_hash": e.prev_hash, "hash": e.hash}


@dataclass(frozen=True)
class Filters:
    """What the log is narrowed by: the action, the actor (a username), the outcome, and the days
    from and to (both included) in the configured zone."""

    action: str | None = None
    actor: str | None = None
    outcome: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def apply(self, query, zone: tzinfo):
        if self.action:
            query = query.where(AuditEntry.action == self.action)
        if self.actor:
            query = query.where(AuditEntry.actor == self.actor)
        if self.outcome:
            query = query.where(AuditEntry.outcome == self.outcome)
        if self.date_from is not None:
            query = query.where(AuditEntry.at >= datetime.combine(self.date_from, time(), zone))
        if self.date_to is not None:
            query = query.where(AuditEntry.at < datetime.combine(self.date_to + timedelta(days=1), time(), zone))
        return query

    def query(self) -> dict[str, str]:
        """The filters as query parameters (`from`, `to`): for links that keep them, and for the record."""
        values = {"action": self.action, "actor": self.actor, "outcome": self.outcome,
                  "from": self.date_from.isoformat() if self.date_from else None,
                  "to": self.date_to.isoformat() if self.date_to else None}
        return {k: v for k, v in values.items() if v}


def search(s: Session, filters: Filters, zone: tzinfo, limit: int | None = 50,
           offset: int = 0) -> tuple[list[AuditEntry], int]:
    """Entries newest first, filtered; `limit=None` for all of them. The caller checks who may read them."""
    query = filters.apply(select(AuditEntry), zone)
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(s.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))), total


def actions(s: Session) -> list[str]:
    """The actions the log holds."""
    return list(s.scalars(select(AuditEntry.action).distinct()))


def _take_head(s: Session) -> tuple[int, str]:
    """Lock the head row (made on the first append) for the rest of the transaction; its id and hash.
    Writing the row to itself takes the lock on either database: the row lock on PostgreSQL, the
    write lock on SQLite."""
    take = (update(AuditHead).where(AuditHead.id == HEAD).values(last_id=AuditHead.last_id)
            .returning(AuditHead.last_id, AuditHead.last_hash))
    row = s.execute(take, execution_options=UNSYNCED).first()
    if row is None:
        insert = postgresql_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        s.execute(insert(AuditHead).values(id=HEAD, last_id=0, last_hash="").on_conflict_do_nothing())
        row = s.execute(take, execution_options=UNSYNCED).one()
    return row[0], row[1]


def _now(s: Session) -> datetime:
    clock = s.info.get("clock")
    return clock.now() if clock is not None else datetime.now(UTC)


def _client_address() -> str | None:
    return request.remote_addr if has_request_context() else None


def _clip(text: str | None, limit: int) -> str | None:
    return text[:limit] if text is not None else None
