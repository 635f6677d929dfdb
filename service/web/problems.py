"""Errors as people read them: the service's stable codes worded in the page's language.

The service names what went wrong by code (`service.errors.ERROR_CODES`, `FIELD_CODES`); these
functions look the code up in the gettext catalogue and fill in the error's own values. No page
reads the English text of a message to decide what to show.
"""
from __future__ import annotations

from ..errors import ERROR_CODES, FAILURE_CODES, FIELD_CODES, ApiError
from .i18n import _


class _Blank(dict):
    """Values for a text's placeholders; one the error did not give shows as nothing, not a crash."""

    def __missing__(self, key):
        return ""


def _fill(text: str, values: dict | None) -> str:
    translated = _(text)
    return translated % _Blank(values or {}) if "%(" in translated else translated


def error_text(code: str | None, values: dict | None = None, fallback: str | None = None) -> str:
    """The sentence for an error code; `fallback` (or a general sentence) for a code it does not know."""
    text = ERROR_CODES.get(code or "")
    if text is None:
        return fallback or _("The request cannot be processed")
    return _fill(text, values)


def failure_text(code: str | None) -> str:
    """Why a process instance's timed step failed (the engine's own words stay a technical detail)."""
    if code in FAILURE_CODES:
        return _fill(FAILURE_CODES[code], None)
    return error_text(code, None, _(FAILURE_CODES["workflow_failed"]))


def of_exception(exc: BaseException) -> str:
    """The sentence for an error the service raised (service or engine error)."""
    values = getattr(exc, "params", None) if isinstance(exc, ApiError) else None
    return error_text(getattr(exc, "code", None), values)


def field_text(problem: dict) -> str:
    """One field problem (`{"field", "code", ...}`) as the sentence shown beside the field."""
    code = problem.get("code") or ""
    if code in ("type", "format"):
        code = f"{code}_{problem.get('expected')}"
    elif code == "min_length" and isinstance(problem.get("limit"), int) and problem["limit"] > 1:
        code = "min_length_chars"  # a minimum of one character reads as "required"
    if code in FIELD_CODES:
        return _fill(FIELD_CODES[code], problem)
    return error_text(code, problem, _("This value is not valid"))


def place_errors(errors: list[dict] | None) -> dict[str, list[str]]:
    """Field problems by field path (a form's `items.0.findings`, a diagram's element id), worded."""
    placed: dict[str, list[str]] = {}
    for problem in errors or []:
        name = problem.get("field") or problem.get("element_id") or "data"
        placed.setdefault(name, []).append(field_text(problem))
    return placed


def errors_of(exc: BaseException, field: str) -> dict[str, list[str]]:
    """A refusal as the page places it: its field problems beside their fields (worded with the
    error's own values), or else its sentence beside `field`."""
    params = exc.params if isinstance(exc, ApiError) else {}
    placed = place_errors([dict(e, **params) for e in getattr(exc, "errors", None) or []])
    return placed or {field: [of_exception(exc)]}


def deploy_errors(errors: list[dict]) -> list[dict]:
    """A diagram's refusals with each message in the page's language: the kind of refusal by its
    `code`, and the reason inside it (`reason_code`, from the engine's checks) by its own code."""
    return [dict(e, message=error_text(e.get("code"), _worded_reason(e), e.get("message"))) for e in errors]


def _worded_reason(error: dict) -> dict:
    if error.get("reason_code") in ERROR_CODES:
        return dict(error, reason=error_text(error["reason_code"], error))
    return error
