"""A task's JSON Schema as an HTML form, and the posted form back as the JSON the API takes.

Field names are the dotted paths the service reports errors on (`items.0.findings`), so a
message from `tasks.complete` lands beside its field without a mapping table. Arrays of
objects become repeatable rows: rows bound to a referenced record (a `common_problem_id`) are
fixed, one per record, with its title shown read-only; other rows (measures, institutions) are
added and removed in place from a `<template>` whose index placeholder the page's script fills.
Posted rows are re-numbered densely, and a form with errors is rendered again from the parsed
data, so the error paths and the rendered rows always agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .i18n import _, tc

# Properties shown read-only as the title of the record they reference: property -> refs key.
REFERENCES = {"common_problem_id": "common_problem"}
# String properties written as paragraphs rather than one line.
MULTILINE = {"findings", "reason", "description", "comment", "plan", "report", "summary", "content"}
ROW_MARKER = "__row"
_MISSING = object()


@dataclass
class Row:
    name: str
    dom_id: str
    title: str
    fields: list[Field]
    errors: list[str] = field(default_factory=list)
    description: str = ""  # the referenced record's explanation (a common problem's), under its title


@dataclass
class Field:
    kind: str  # text textarea integer number date select radio bool confirm ref group rows checkboxes
    name: str
    dom_id: str
    label: str
    description: str = ""
    value: Any = None
    required: bool = False
    errors: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    template: Row | None = None
    token: str = ""
    fixed: bool = False
    item_label: str = ""
    minimum: Any = None
    maximum: Any = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None  # as HTML takes it: the whole value must match
    readonly: bool = False
    next_index: int = 0

    @property
    def text(self) -> str:
        """The value as it goes back into an input: what the user typed stays as typed."""
        if self.value is None or self.value is _MISSING:
            return ""
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)

    @property
    def wide(self) -> bool:
        return self.kind in ("textarea", "group", "rows", "confirm", "checkboxes")


@dataclass
class Form:
    title: str
    description: str
    fields: list[Field]
    errors: dict[str, list[str]]
    general_errors: list[str]

    @property
    def error_count(self) -> int:
        return sum(len(v) for v in self.errors.values())

    def error_links(self) -> list[tuple[str, str]]:
        """(anchor, "where: message") for the summary above the form, each linking to its field."""
        labels: dict[str, str] = {}
        _collect_labels(self.fields, "", labels)
        links: list[tuple[str, str]] = []
        for name, messages in self.errors.items():
            if name in labels:
                links.extend((_dom_id(name), _("%(where)s: %(message)s", where=labels[name], message=m))
                             for m in messages)
            else:
                links.extend((OUTSIDE_ANCHORS.get(name, "form-errors"), m) for m in messages)
        return links


# Errors about something the page holds outside the task's form: where the summary's link leads.
OUTSIDE_ANCHORS = {"evidence": "evidence-file"}  # no filing without evidence: the upload beside the form


# ------------------------------------------------------------------ schema -> fields
def build(schema: dict, values: dict | None, errors: dict[str, list[str]] | None = None,
          refs: dict[str, dict] | None = None) -> Form:
    errors = errors or {}
    fields = _object_fields(schema, values or {}, errors, refs or {}, "", 0)
    names: set[str] = set()
    _collect_names(fields, names)
    general = [m for name, msgs in errors.items() if name not in names for m in msgs]
    return Form(tc(schema.get("title")), tc(schema.get("description")), fields, errors, general)


def _object_fields(schema: dict, values: dict, errors, refs, prefix: str, depth: int) -> list[Field]:
    required = set(schema.get("required", []))
    out = []
    for key, prop in (schema.get("properties") or {}).items():
        value = values.get(key, _MISSING) if isinstance(values, dict) else _MISSING
        out.append(_field(key, prop, value, key in required, errors, refs, prefix + key, depth))
    return _pack(out)


def _pack(fields: list[Field]) -> list[Field]:
    """Order fields as a two-column grid packs them densely: a short field moves up beside an
    earlier lone short one. The page's order then matches what the eye and the Tab key meet."""
    rows: list[list[Field]] = []
    for f in fields:
        if not f.wide:
            row = next((r for r in rows if len(r) == 1 and not r[0].wide and r[0].kind != "ref"), None)
            if row is not None:
                row.append(f)
                continue
        rows.append([f])
    return [f for row in rows for f in row]


def _field(key: str, prop: dict, value, required: bool, errors, refs, name: str, depth: int) -> Field:
    kind = _kind(key, prop)
    f = Field(kind=kind, name=name, dom_id=_dom_id(name), label=tc(prop.get("title") or key),
              description=tc(prop.get("description")), required=required, errors=list(errors.get(name, [])),
              minimum=prop.get("minimum"), maximum=prop.get("maximum"),
              min_length=prop.get("minLength"), max_length=prop.get("maxLength"),
              pattern=prop.get("x-pattern"), readonly=bool(prop.get("readOnly")))
    if value is _MISSING and "default" in prop:
        value = prop["default"]
    f.value = None if value is _MISSING else value
    if kind in ("select", "radio", "checkboxes"):
        f.options = enum_options(prop if kind != "checkboxes" else prop.get("items", {}))
    if kind == "ref":
        f.options = [(str(k), v) for k, v in refs.get(REFERENCES[key], {}).items()]
    if kind == "group":
        f.children = _object_fields(prop, value if isinstance(value, dict) else {}, errors, refs, name + ".", depth)
    if kind == "rows":
        item = prop.get("items", {})
        f.item_label = tc(item.get("title") or prop.get("title") or key)
        f.fixed = any(k in REFERENCES for k in (item.get("properties") or {}))
        rows = value if isinstance(value, list) else []
        f.rows = [_row(item, r if isinstance(r, dict) else {}, errors, refs, f"{name}.{i}", depth) for i, r in enumerate(rows)]
        f.next_index = len(rows)
        if not f.fixed:
            f.token = f"__i{depth}__"
            f.template = _row(item, {}, {}, refs, f"{name}.{f.token}", depth)
    return f


def _row(item: dict, values: dict, errors, refs, name: str, depth: int) -> Row:
    fields = _object_fields(item, values, errors, refs, name + ".", depth + 1)
    title = description = ""
    for key, ref_kind in REFERENCES.items():
        if key in values:
            title = str(refs.get(ref_kind, {}).get(values[key], values[key]))
            description = str(refs.get(ref_kind + "_description", {}).get(values[key], ""))
    return Row(name=name, dom_id=_dom_id(name), title=title, fields=fields, errors=list(errors.get(name, [])),
               description=description)


def _kind(key: str, prop: dict) -> str:
    typ = prop.get("type")
    if key in REFERENCES:
        return "ref"
    if typ == "object":
        return "group"
    if typ == "array":
        item = prop.get("items", {})
        return "rows" if item.get("type") == "object" else "checkboxes"
    if typ == "boolean":
        return "confirm" if prop.get("const") is True else "bool"
    if typ == "integer":
        return "integer"
    if typ == "number":
        return "number"
    if prop.get("format") == "date":
        return "date"
    if "enum" in prop or "oneOf" in prop:
        return "radio" if len(enum_options(prop)) <= 4 else "select"
    if key in MULTILINE or prop.get("x-multiline") or (prop.get("maxLength") or 0) > 200:
        return "textarea"
    return "text"


def enum_options(prop: dict) -> list[tuple[str, str]]:
    """(value, label) of an enum: labels from `x-enum-labels` (formData) or `oneOf` const/title."""
    labels = dict(prop.get("x-enum-labels") or {})
    for option in prop.get("oneOf") or []:
        if "const" in option:
            labels.setdefault(option["const"], option.get("title", option["const"]))
    values = prop.get("enum") or [o["const"] for o in prop.get("oneOf") or [] if "const" in o]
    return [(str(v), tc(labels.get(v, str(v)))) for v in values]


def _collect_names(fields: list[Field], names: set[str]) -> None:
    for f in fields:
        names.add(f.name)
        _collect_names(f.children, names)
        for row in f.rows:
            names.add(row.name)
            _collect_names(row.fields, names)


def _collect_labels(fields: list[Field], context: str, labels: dict[str, str]) -> None:
    """Each field's label, prefixed with its row's title or number, as the error summary names it."""
    for f in fields:
        labels[f.name] = f"{context} · {f.label}" if context else f.label
        _collect_labels(f.children, labels[f.name], labels)
        for number, row in enumerate(f.rows, 1):
            where = f"{context} · " if context else ""
            row_label = f"{where}{row.title or f'{f.item_label} {number}'}"
            labels[row.name] = row_label
            _collect_labels(row.fields, row_label, labels)


def _dom_id(name: str) -> str:
    return "f-" + name.replace(".", "-")


# ------------------------------------------------------------------ posted form -> data
def parse(schema: dict, form) -> dict:
    """The posted fields as the task's data, typed by the schema.

    Empty optional fields are left out; what does not convert (a number field holding text)
    is kept as typed, so the form's validation names it and the page shows it again.
    """
    return _parse_object(schema, form, list(form.keys()), "")


def _parse_object(schema: dict, form, keys: list[str], prefix: str) -> dict:
    required = set(schema.get("required", []))
    out = {}
    for key, prop in (schema.get("properties") or {}).items():
        value = _parse_value(prop, form, keys, prefix + key, key in required)
        if value is not _MISSING:
            out[key] = value
    return out


def _parse_value(prop: dict, form, keys: list[str], path: str, required: bool):
    typ = prop.get("type")
    if typ == "object":
        return _parse_object(prop, form, keys, path + ".")
    if typ == "array":
        item = prop.get("items", {})
        if item.get("type") == "object":
            start = path + "."
            indexes = sorted({int(seg) for seg in (k[len(start):].split(".", 1)[0] for k in keys if k.startswith(start))
                              if seg.isascii() and seg.isdigit() and len(seg) < 5})  # row numbers only
            return [_parse_object(item, form, keys, f"{path}.{i}.") for i in indexes]
        return [_convert(item, v) for v in form.getlist(path) if v != ""]
    raw = form.get(path)
    if typ == "boolean" and prop.get("const") is True:
        return raw in ("true", "on", "1")
    if raw is None:
        return _MISSING
    raw = raw.replace("\r\n", "\n")
    if raw.strip() == "" and (typ != "string" or not required or "enum" in prop or "oneOf" in prop):
        return _MISSING
    return _convert(prop, raw)


def _convert(prop: dict, raw: str):
    typ = prop.get("type")
    try:
        if typ == "integer":
            return int(raw.strip())
        if typ == "number":
            return float(raw.strip())
    except ValueError:
        return raw
    if typ == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw
