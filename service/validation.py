"""Limits every input shares, whatever the endpoint: integers the databases can hold, text they can store.

Schemas check shapes; these checks keep a well-shaped value from reaching the database and
failing there (an id past 2^31 on PostgreSQL, a NUL character, half a surrogate pair).
"""
from __future__ import annotations

from .errors import Unprocessable

MAX_INT = 2_147_483_647
# The most any count a person types may be (problems found by a self-check, …): far above any real
# figure, and low enough that a district's sum of them stays a plain integer.
MAX_COUNT = 10_000
# How deep a JSON body may nest. The service's own bodies nest five levels at most; a body nested a
# thousand levels deep only exhausts the parser's and the validators' recursion.
MAX_JSON_DEPTH = 32


def json_depth(value, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply lists and objects nest in a decoded JSON value (without recursion), stopping
    as soon as it passes `limit`."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > limit:
                break
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def bad_text(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return None


def check_value(value, path: str = "body") -> list[dict]:
    """Field problems in a decoded JSON value (or form data), walking nested lists and objects."""
    problems: list[dict] = []
    if isinstance(value, bool):
        return problems
    if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
        problems.append({"field": path, "code": "out_of_range", "message": f"must be between {-MAX_INT} and {MAX_INT}"})
    elif isinstance(value, str):
        reason = bad_text(value)
        if reason:
            problems.append({"field": path, "code": "unstorable_text", "message": reason})
    elif isinstance(value, dict):
        for key, item in value.items():
            problems += check_value(key, path) if isinstance(key, str) and bad_text(key) else []
            problems += check_value(item, f"{path}.{key}" if path != "body" else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems += check_value(item, f"{path}.{index}")
    return problems


def bounded_int(raw: str | None) -> int | None:
    """A query or form integer, or None when it is missing, malformed or out of range."""
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if -MAX_INT <= value <= MAX_INT else None


def require_lengths(**fields: tuple[str | None, int]) -> None:
    """Text fits its column; the API's schemas say so too, but pages post straight to the services."""
    errors = [{"field": name, "code": "too_long", "message": f"at most {limit} characters"}
              for name, (value, limit) in fields.items() if value is not None and len(value) > limit]
    if errors:
        raise Unprocessable("some fields do not fit", errors, code="too_long")


def required_text(field: str, value: str | None, code: str, message: str, limit: int) -> str:
    """A text a step cannot do without: stripped, refused when blank (`code`, `message`) or longer
    than `limit` characters (`too_long`)."""
    text = (value or "").strip()
    if not text:
        raise Unprocessable.on_field(field, code, message, f"{field} is required")
    if len(text) > limit:
        raise Unprocessable.on_field(field, "too_long", f"at most {limit} characters", limit=limit)
    return text
