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


class ConstraintError(FormError):
    """A formData field's constraint that cannot be enforced (wrong field type, config not a number)."""

    def __init__(self, message: str, field: str, constraint: str) -> None:
        super().__init__(message)
        self.field = field
        self.constraint = constraint


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


# camunda:constraint names (as Camunda Modeler writes them) and what each becomes in the schema.
CONSTRAINTS = ("required", "minlength", "maxlength", "min", "max", "pattern", "readonly")
_NUMERIC = ("long", "integer")
_TEXT = ("string", None, "")


def schema_from_fields(fields) -> dict:
    """A formData form as JSON Schema, carrying every `camunda:constraint` of its fields.

    `required` holds whatever its `config` (Modeler writes none); a required text must not be
    empty. `minlength`/`maxlength` and `pattern` (the whole value must match, as in HTML) apply to
    text, `min`/`max` to numbers; `readonly` marks the field `readOnly`: it keeps its default
    (`validate` refuses another value). A constraint that does not apply or whose config is not a
    number raises FormError, which deploying reports so the diagram never runs with it.
    """
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
            prop["default"] = _typed(field, field.default_value)
        for rule in getattr(field, "validation", []) or []:
            if _constrain(field, prop, rule.name, rule.config):
                required.append(field.id)
        properties[field.id] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _constrain(field, prop: dict, name: str, config) -> bool:
    """Carry one constraint into prop; True when it makes the field required."""
    try:
        return _carry(field, prop, name, config)
    except FormError as exc:
        raise ConstraintError(str(exc), field.id, name) from None


def _carry(field, prop: dict, name: str, config) -> bool:
    where = f"field {field.id!r}: constraint {name!r}"
    text = field.type in _TEXT
    if name == "required":
        if str(config or "").strip().lower() == "false":
            return False
        if text:
            prop["minLength"] = max(prop.get("minLength", 0), 1)
            prop["x-not-blank"] = True  # spaces alone are not an answer either
        return True
    if name == "readonly":
        if str(config or "").strip().lower() != "false":
            prop["readOnly"] = True
        return False
    if name in ("minlength", "maxlength"):
        if not text:
            raise FormError(f"{where} applies to text fields only")
        limit = _number(config, where)
        if limit < 0:
            raise FormError(f"{where} needs a length of 0 or more")
        key = "minLength" if name == "minlength" else "maxLength"
        prop[key] = max(prop.get(key, 0), limit) if key == "minLength" else limit
        return False
    if name in ("min", "max"):
        if field.type not in _NUMERIC:
            raise FormError(f"{where} applies to number fields only")
        prop["minimum" if name == "min" else "maximum"] = _number(config, where)
        return False
    if name == "pattern":
        if not text:
            raise FormError(f"{where} applies to text fields only")
        try:
            re.compile(str(config or ""))
        except re.error as exc:
            raise FormError(f"{where} is not a valid pattern: {exc}") from exc
        if not config:
            raise FormError(f"{where} needs a pattern")
        prop["pattern"] = f"^(?:{config})$"
        prop["x-pattern"] = config
        return False
    raise FormError(f"{where} is not supported (use one of {', '.join(CONSTRAINTS)})")


def _number(config, where: str) -> int:
    try:
        return int(str(config).strip())
    except (TypeError, ValueError):
        raise FormError(f"{where} needs a whole number, not {config!r}") from None


def _typed(field, value):
    """A field's defaultValue (always text in the XML) as the type its field holds."""
    if field.type in _NUMERIC:
        try:
            return int(str(value).strip())
        except ValueError:
            return value
    if field.type == "boolean":
        return {"true": True, "false": False}.get(str(value).strip().lower(), value)
    return value


def validate(schema: dict, data) -> list[dict]:
    """Field problems of data against a form's schema; empty when the data fits.

    A `readOnly` property (a formData field with the `readonly` constraint) may be left out or sent
    back with its default; any other value is refused with code `readonly`, not silently kept. A
    required formData text (`x-not-blank`) holding only spaces is refused as `required`.
    """
    problems = schema_problems(Draft202012Validator(schema, format_checker=FormatChecker()), data, root="data")
    if isinstance(data, dict):
        for key, prop in (schema.get("properties") or {}).items():
            value = data.get(key)
            if isinstance(prop, dict) and prop.get("x-not-blank") and isinstance(value, str) and value \
                    and not value.strip():
                problems.append({"field": key, "code": "required", "message": f"{key!r} is a required property"})
            if isinstance(prop, dict) and prop.get("readOnly") and key in data and data[key] != prop.get("default"):
                problems = [p for p in problems if p["field"] != key]
                problems.append({"field": key, "code": "readonly", "message": f"{key!r} cannot be changed"})
    return problems


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
