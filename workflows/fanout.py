"""Starting many instances of one model at once, by deriving them from one run.

Publishing a list starts an instance per unit, all from the same start event, with data that
differs only in values such as the case and unit ids. Running SpiffWorkflow for each costs
milliseconds a unit; a derived instance costs a text substitution.

The rule that makes a derivation exact:

1. Every string anywhere in the parsed model (scripts, conditions, timer and due-date expressions,
   loop conditions, extension values...) is read as possible code, and every identifier in it
   counts as a name the model may read (`referenced_names`). Over-counting only costs speed.
   A model naming `locals`, `vars`, `dir`, `globals`, `eval` or `exec` reads names we cannot
   see: nothing is derived for it.
2. Instances whose data agree on every referenced key (and on their key sets and their task
   candidates) form a group (`groups`): the engine takes the same path for all of them, computes
   the same script results, timer values and due dates. The engine runs for the group's first
   instance; the other instances differ only in the values of keys no expression reads, which
   travel unchanged from task to task. Their state is the first one's with those values put in
   their place, and with fresh task ids.
3. The engine also runs, for real, the group's second instance, and its state, events and index
   rows must equal the derived ones (task ids and change times aside). Anything the first two
   rules missed (a clock read by a script, a value copied where no data dict holds it) shows as
   a difference there, and the group falls back to running every instance one by one.
4. A derived instance costs the script account (`scripting.script_account`) what the first run's
   scripts spent; an account that cannot pay for all of them makes them run (and fail) as before.

A group of one or two instances is simply run. Rows of a batch carry one time (the batch's), and
a derived instance's state keeps the first run's change times.
"""
from __future__ import annotations

import json
import os
import re
import types
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any, TypeVar, cast

from sqlalchemy import JSON, DateTime, Table, bindparam, insert, text, update
from sqlalchemy.orm import Session, configure_mappers
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.instrumentation import manager_of_class

from . import serializer

T = TypeVar("T")

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Names through which a script can read data it does not name.
_OPAQUE = frozenset({"locals", "vars", "dir", "globals", "eval", "exec", "__dict__", "__builtins__"})
# Attributes the engine never evaluates; only words for people.
_WORDS = frozenset({"documentation", "bpmn_name", "description", "lane"})
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SLOT_MARK = "\x00rectiflow-slot:{}\x00"
_SLOT_OR_UUID = re.compile(r'"\\u0000rectiflow-slot:(\d+)\\u0000"|' + _UUID)
_CHANGE_TIME = re.compile(r'"last_state_change":[-0-9.eE+]+')
_ANY_UUID = re.compile(_UUID)


class NotDerivable(Exception):
    """The model or the data leave room for a difference the derivation would not make."""


def referenced_names(specs: list[Any]) -> frozenset[str]:
    """Every identifier in any string reachable from the parsed process specs."""
    names: set[str] = set()
    seen: set[int] = set()
    stack: list[Any] = list(specs)
    while stack:
        obj = stack.pop()
        if isinstance(obj, str):
            names.update(_IDENT.findall(obj))
            continue
        if obj is None or isinstance(obj, (bool, int, float, type)):
            continue
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif isinstance(obj, types.MethodType):
            stack.append(obj.__self__)  # a listener of the spec's events: its object is walked
        elif isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)) and _ours(obj.__module__):
            continue
        elif hasattr(obj, "__dict__") and _ours(type(obj).__module__):
            stack.extend(v for k, v in vars(obj).items() if k not in _WORDS)
        else:
            raise NotDerivable(f"the model holds a {type(obj).__name__}, which may carry code")
    if names & _OPAQUE:
        raise NotDerivable("a script reads names it does not spell out")
    return frozenset(names)


def _ours(module: str | None) -> bool:
    return (module or "").split(".")[0] in ("SpiffWorkflow", "workflows")


def groups(referenced: frozenset[str], data: list[dict], candidates: list[dict]) -> list[list[int]]:
    """Indexes of the instances that share a path, in order of their first member."""
    by_key: dict[str, list[int]] = {}
    for index, (values, named) in enumerate(zip(data, candidates, strict=True)):
        try:
            signature = json.dumps([sorted(values), {k: v for k, v in values.items() if k in referenced}, named],
                                   sort_keys=True, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise NotDerivable(f"the data is not plain: {exc}") from exc
        by_key.setdefault(signature, []).append(index)
    return list(by_key.values())


@dataclass
class Template:
    """A run's state cut where its task ids and the group's differing values stand: `literals` are
    the text between, `holes` say what goes in each gap (a task id's number, or len(task_ids) plus
    a slot's number)."""

    literals: list[str]
    holes: list[int]
    keys: list[str]  # the data keys whose values differ within the group, by slot number
    task_ids: list[str]

    def __post_init__(self) -> None:
        # a state is some 500 pieces: laid out once, filled by C loops (slice assignment, itemgetter)
        self._parts: list[str] = [""] * (2 * len(self.holes) + 1)
        self._parts[0::2] = self.literals
        self._pick = itemgetter(*self.holes) if len(self.holes) > 1 else None
        self._encode = serializer.encoder().encode

    def derive(self, values: dict) -> tuple[str, dict[str, str]]:
        """The state of an instance with these data values, and its task ids by the template's."""
        fresh = fresh_ids(len(self.task_ids))
        fill = fresh + [self._encode(values[k]) for k in self.keys]
        parts = self._parts[:]
        if self._pick is not None:
            parts[1::2] = self._pick(fill)
        elif self.holes:
            parts[1] = fill[self.holes[0]]
        return "".join(parts), dict(zip(self.task_ids, fresh, strict=True))


def template(dct: dict, start_data: dict, keys: list[str]) -> Template:
    """Mark in a run's state dictionary (a copy of `serializer.to_dict`'s: it is changed here) every
    place holding a start value of `keys`. A key found holding another value was changed by the
    run: not derivable. A start value kept anywhere else is caught by the check of rule 3."""
    slots = {k: _SLOT_MARK.format(i) for i, k in enumerate(keys)}
    task_ids: list[str] = []

    def mark(container: dict | None) -> None:
        if not container:
            return
        for key, slot in slots.items():
            if key in container:
                if container[key] != start_data[key]:
                    raise NotDerivable(f"the run changed {key!r}")
                container[key] = slot

    for wf in [dct, *dct.get("subprocesses", {}).values()]:
        mark(wf.get("data"))
        for task_id, task in wf.get("tasks", {}).items():
            task_ids.append(task_id)
            mark(task.get("data"))
            mark((task.get("delta") or {}).get("updates"))
    text = serializer.encode(dct)
    number = {task_id: i for i, task_id in enumerate(task_ids)}
    literals, holes, at = [], [], 0
    for match in _SLOT_OR_UUID.finditer(text):
        slot = match.group(1)
        hole = len(task_ids) + int(slot) if slot is not None else number.get(match.group(0))
        if hole is None:
            continue  # an id that is no task of this run (in data): kept as it is
        literals.append(text[at:match.start()])
        holes.append(hole)
        at = match.end()
    literals.append(text[at:])
    return Template(literals, holes, list(keys), task_ids)


def canonical(state: str) -> str:
    """A state with its task ids numbered by first appearance and without change times: two runs
    that took the same steps with the same data read the same."""
    numbers: dict[str, str] = {}
    text = _CHANGE_TIME.sub('"last_state_change":0', state)
    return _ANY_UUID.sub(lambda m: numbers.setdefault(m.group(0), f"#{len(numbers)}"), text)


def check_events(events: list[Any], start_data: dict, keys: list[str]) -> None:
    """The events of the first run carry the differing keys, if at all, with their start values."""
    for event in events:
        for key in keys:
            if key in event.data and event.data[key] != start_data[key]:
                raise NotDerivable(f"a step reported a changed {key!r}")


def with_values(data: dict, values: dict, keys: list[str]) -> dict:
    """An event's data for another instance of the group: its own values of the differing keys.

    The values are shared, not copied: the other values with the first run's events, the instance's
    own with its other events. A step's handler reads its event's data and never changes it in
    place, and a deep copy per event and instance was most of what a derived instance cost beside
    its state."""
    out = dict(data)
    for key in keys:
        if key in out:
            out[key] = values[key]
    return out


def fresh_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as text, as `str(uuid.uuid4())` spells them, made from one
    read of the system's random source rather than an object each."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])  # variant 10xx
    h = raw.hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
            for i in range(0, 32 * count, 32)]


def detached(cls: type[T], values: dict) -> T:
    """An object for a row just written with these values (every column, its key among them), as a
    query would give it but without reading the row back or entering the session: what it says is
    committed, and `session.add` treats it as the existing row. Instances started together are
    written in bulk and handed out like this; building each through its constructor and a flush
    cost more than the rest of its start."""
    manager, identity, keys = _mapping(cast(Any, cls))
    obj = manager.new_instance()
    obj.__dict__.update(values)
    instance_state(obj).key = (identity, tuple(values[k] for k in keys), None)
    return obj


@cache
def _mapping(cls: Any) -> tuple[Any, type, tuple[str, ...]]:
    """The class's instrumentation, the class its identity keys name and its primary key's columns."""
    mapper = cls.__mapper__
    if not mapper.configured:
        configure_mappers()
    return manager_of_class(cls), mapper._identity_class, tuple(column.key for column in mapper.primary_key)


def table_of(model: type) -> Table:
    """A mapped class's table, for statements written in bulk that skip the mapper."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def write_rows(session: Session, model: type, rows: list[dict], *, with_ids: bool = False) -> list[int]:
    """Insert `rows` (dicts with the same keys) into the model's table, in their order; with
    `with_ids`, the ids the rows got, in that order (else []).

    PostgreSQL: the ids are taken from the table's sequence first and the rows sent with COPY,
    adapted by the columns' own types, so a row costs neither a parsed placeholder nor a round trip
    of a pipelined statement. Elsewhere: an INSERT with many rows (one at a time, with RETURNING,
    when ids are wanted)."""
    if not rows:
        return []
    table = table_of(model)
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        if with_ids and not bind.dialect.insert_returning:  # SQLite before 3.35
            connection = session.connection()
            return [int(connection.execute(insert(table), row).inserted_primary_key[0])  # type: ignore[index]
                    for row in rows]
        if with_ids:
            return list(session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
                        .scalars())
        session.execute(insert(table), rows)
        return []
    ids: list[int] = []
    if with_ids:
        ids = list(session.scalars(text(
            "SELECT nextval(pg_get_serial_sequence(:table, 'id')) AS id FROM generate_series(1, :count) ORDER BY 1"),
            {"table": table.name, "count": len(rows)}))
        rows = [{**row, "id": row_id} for row, row_id in zip(rows, ids, strict=True)]
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    processors = [(i, p) for i, column in enumerate(columns) if (p := _copy_processor(column, bind.dialect))]
    quoted = ", ".join(bind.dialect.identifier_preparer.quote(name) for name in names)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            values = [row[name] for name in names]
            for i, process in processors:
                values[i] = process(values[i])
            copy.write_row(values)
    return ids


def _copy_processor(column: Any, dialect: Any) -> Any:
    """How a column's value is put for COPY: JSON as the text the dialect writes for it (None as JSON
    null, as an INSERT would), the rest by the column type's own processing."""
    if isinstance(column.type, JSON):
        dumps = getattr(dialect, "_json_serializer", None) or json.dumps
        keep_null = column.type.none_as_null
        return lambda value: None if value is None and keep_null else dumps(value)
    process = column.type.bind_processor(dialect)
    if process is None or not isinstance(getattr(column.type, "impl", column.type), DateTime):
        return process
    done: dict[Any, Any] = {}  # a fan-out's rows share a few times (now, the deadline, the warning points)

    def once(value: Any) -> Any:
        if value not in done:
            done[value] = process(value)
        return done[value]
    return once


def set_ids(session: Session, model: type, column: str, values: dict[int, int]) -> None:
    """Set an integer column (an id of another row) of many rows, by their ids, in one statement
    where the database allows it."""
    if not values:
        return
    table = table_of(model)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            f"UPDATE {table.name} SET {column} = v.value FROM unnest(CAST(:ids AS bigint[]), "
            f"CAST(:values AS bigint[])) AS v(id, value) WHERE {table.name}.id = v.id"),
            {"ids": list(values), "values": list(values.values())})
        return
    session.execute(update(table).where(table.c.id == bindparam("row_id")).values({column: bindparam("value")}),
                    [{"row_id": k, "value": v} for k, v in values.items()])


_LZ4: dict[int, bool] = {}


def compress_fast(session: Session) -> None:
    """On PostgreSQL, store this transaction's large texts (the instances' states, tens of kilobytes
    each) with lz4 rather than the default pglz, where the server has it: compressing them was most
    of what writing thousands of states cost the server. Reading needs nothing: each value says how
    it was compressed. Lasts until the transaction ends."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    key = id(bind)
    if key not in _LZ4:
        _LZ4[key] = bool(session.scalar(text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")))
    if _LZ4[key]:
        session.execute(text("SET LOCAL default_toast_compression = 'lz4'"))
