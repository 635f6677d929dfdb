"""Task forms as JSON Schema.

A `camunda:formKey` naming a schema file under the forms folder selects a rich form; otherwise
the task's `camunda:formData` fields become its schema. Either way clients and the service see
one representation, and completion data is validated against it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

FORM_KEY_RE = re.compile(r"^[A-Za-z0-9_\-]+\.json$")

_FIELD_TYPES = {
    "string": {"type": "string"},
    "long": {"type": "integer"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
}


class FormError(ValueError):
    pass


class FormLibrary:
    def __init__(self, forms_dir: Path) -> None:
        self.forms_dir = forms_dir
        self._loaded: dict[str, dict] = {}

    def exists(self, form_key: str) -> bool:
        return bool(FORM_KEY_RE.match(form_key)) and (self.forms_dir / form_key).is_file()

    def load(self, form_key: str) -> dict:
        if form_key not in self._loaded:
            if not FORM_KEY_RE.match(form_key):
                raise FormError(f"form key {form_key!r} is not a plain *.json file name")
            path = self.forms_dir / form_key
            if not path.is_file():
                raise FormError(f"form {form_key!r} does not exist")
            self._loaded[form_key] = json.loads(path.read_text(encoding="utf-8"))
        return self._loaded[form_key]

    def schema_for(self, task_spec) -> dict:
        form = getattr(task_spec, "form", None)
        if form is not None and form.key:
            return self.load(form.key)
        fields = form.fields if form is not None else []
        return schema_from_fields(fields)


def schema_from_fields(fields) -> dict:
    properties: dict = {}
    required: list[str] = []
    for field in fields:
        if field.type == "enum":
            prop = {
                "type": "string",
                "enum": [o.id for o in field.options],
                "x-enum-labels": {o.id: o.name for o in field.options},
            }
        else:
            prop = dict(_FIELD_TYPES.get(field.type, {"type": "string"}))
        if field.label:
            prop["title"] = field.label
        if field.default_value not in (None, ""):
            prop["default"] = field.default_value
        properties[field.id] = prop
        if field.has_validation("required"):
            required.append(field.id)
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def validate(schema: dict, data) -> list[dict]:
    """Field problems of data against a form's schema; empty when the data fits."""
    return schema_problems(Draft202012Validator(schema, format_checker=FormatChecker()), data, root="data")


# Rules whose limit a page names ("at least 1", "at most 300 characters").
_LIMITED = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")


def schema_problems(validator, data, root: str = "body") -> list[dict]:
    """Field problems as `{"field", "code", "message"}` (plus `limit` or `expected` where the rule
    has one), so pages and clients can word each kind of problem themselves.

    The code is the JSON Schema rule that failed, in snake_case (`required`, `type`, `min_items`).
    A missing property is reported on the property itself, not on the object that lacks it.
    """
    problems: list[dict] = []
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "required":
            missing = [name for name in err.validator_value if name not in (err.instance or {})]
            for name in missing:
                field = f"{path}.{name}" if path else name
                if not any(p["field"] == field and p["code"] == "required" for p in problems):
                    problems.append({"field": field, "code": "required", "message": f"{name!r} is a required property"})
            continue
        problem = {"field": path or root, "code": rule_code(err.validator), "message": err.message}
        if err.validator in _LIMITED:
            problem["limit"] = err.validator_value
        elif err.validator == "type":
            problem["expected"] = err.validator_value
        elif err.validator == "format":
            problem["expected"] = err.validator_value
        problems.append(problem)
    return problems


def rule_code(keyword) -> str:
    """A JSON Schema keyword as a snake_case code: `minItems` -> `min_items`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", str(keyword)).lower()
