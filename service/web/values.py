"""Data a step submitted, in the reader's words: each key under its form's label (or a known
label for the keys the mechanism uses), choices under their option labels, a common problem by
its title, yes/no for booleans. Used by the instance history and the done list, so that nobody
reads raw keys (`items`, `common_problem_id`, `status: ongoing`).
"""
from __future__ import annotations

from ..models import BusinessKey
from .forms import REFERENCES, enum_options
from .i18n import LABELS, _, label, ngettext, tc

MAX_CHARS = 400     # one line of a history cell; longer values are cut with an ellipsis
SUMMARY_CHARS = 60  # one value in the done list's short summary


def clip(text: str, limit: int = MAX_CHARS) -> str:
    return text[:limit] + "…" if len(text) > limit else text


def key_label(key: str, prop: dict | None) -> str:
    if prop and prop.get("title"):
        return tc(prop["title"])
    known = LABELS["data_key"].get(key)
    return str(known) if known is not None else key


def value_text(key: str, value, prop: dict | None, refs: dict) -> str:
    """One value as a person reads it."""
    prop = prop or {}
    if key == "business_key" and isinstance(value, str):
        record = BusinessKey.parse(value)
        if record is not None:
            return f"{label('audit_target', str(record.kind))} #{record.id}"
    if key in REFERENCES and not isinstance(value, (list, dict)):
        return str(refs.get(REFERENCES[key], {}).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        item = prop.get("items") or {}
        if all(isinstance(v, dict) for v in value):
            return " | ".join(row_text(v, item, refs) for v in value)
        return "、".join(value_text(key, v, item, refs) for v in value)
    if isinstance(value, dict):
        return row_text(value, prop, refs)
    options = dict(enum_options(prop)) if ("enum" in prop or "oneOf" in prop) else {}
    if str(value) in options:
        return options[str(value)]
    if key == "status" and value in LABELS["item_status"]:
        return str(LABELS["item_status"][value])
    return str(value)


def row_text(row: dict, schema: dict, refs: dict) -> str:
    props = (schema or {}).get("properties") or {}
    return "；".join(f"{key_label(k, props.get(k))}：{value_text(k, v, props.get(k), refs)}"
                    for k, v in row.items() if not str(k).startswith("__"))


def fields(data: dict | None, schema: dict | None, refs: dict) -> list[dict]:
    """Every key of the data as {"key": label, "lines": [...]}: a repeated form (the self-check's
    items) one line per row, each row as `label：value` pairs."""
    props = (schema or {}).get("properties") or {}
    out = []
    for key, value in (data or {}).items():
        if str(key).startswith("__"):
            continue
        prop = props.get(key) or {}
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines = [clip(row_text(v, prop.get("items") or {}, refs)) for v in value]
        else:
            lines = [clip(value_text(key, value, prop, refs))]
        out.append({"key": key_label(key, prop), "lines": lines})
    return out


def summary(data: dict | None, schema: dict | None, refs: dict, limit: int = 3) -> list[tuple[str, str]]:
    """A short labelled summary of what was submitted: at most `limit` fields, a repeated form as
    its number of rows, each value cut short."""
    props = (schema or {}).get("properties") or {}
    out: list[tuple[str, str]] = []
    for key, value in (data or {}).items():
        if str(key).startswith("__"):
            continue
        prop = props.get(key) or {}
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            text = "；".join([ngettext("%(num)d row", "%(num)d rows", len(value)),
                             *_row_figures(value, (prop.get("items") or {}).get("properties") or {})])
        else:
            text = value_text(key, value, prop, refs)
        out.append((key_label(key, prop), clip(text, SUMMARY_CHARS)))
        if len(out) >= limit:
            break
    return out


def _row_figures(rows: list[dict], props: dict) -> list[str]:
    """What a repeated form's rows add up to: how many rows chose each option of its choice
    fields (整改中 2), and the total of each count field (自查发现问题数 合计 12)."""
    out: list[str] = []
    for key, prop in props.items():
        if "enum" in prop or "oneOf" in prop:
            labels = dict(enum_options(prop))
            counts: dict[str, int] = {}
            for row in rows:
                if row.get(key) is not None:
                    text = labels.get(str(row[key]), str(row[key]))
                    counts[text] = counts.get(text, 0) + 1
            out.extend(f"{text} {n}" for text, n in counts.items())
        elif prop.get("type") == "integer" and key not in REFERENCES:
            numbers = [row[key] for row in rows if isinstance(row.get(key), int) and not isinstance(row[key], bool)]
            if numbers:
                out.append(_("%(label)s in all %(sum)s", label=key_label(key, prop), sum=sum(numbers)))
    return out
