"""The whole organisation, units and accounts, imported from one Excel workbook.

The template (`template()`) has two sheets with Chinese headers, 单位 and 用户, and an example row
each; the headers, the unit kinds and the role names are those of the workbook people fill in, so
they are Chinese whatever the page's language. `run()` reads a workbook and checks every row
against the database and against the other rows, and answers what it would create and change and
every bad row with its reason; only when no row is bad, and the caller is not asking for a dry
run, does it write, all in the caller's transaction: all rows or none.

A row whose code (units) or username (accounts) exists updates that record: the file is the truth
for a unit's fields and an account's name, unit and state. An existing account's roles are left
as they are when the cell is empty, and a different set is refused on its row: roles change by the
two-person rule (`role_changes`). A new account gets the roles of the work named (never an
administrator duty, `access.initial_roles_refusal`) and a temporary password, returned once, that
must be changed at the first login.

Hostile files: larger than MAX_BYTES (413 `import_too_large`), not a zip of an Excel workbook or
unpacking to more than MAX_UNPACKED bytes, or with a DTD (422 `import_not_xlsx`), more than
MAX_ROWS rows on a sheet (422 `import_too_many_rows`); a cell holding a formula is a bad row
(`import_formula`); formulas are never evaluated.

Between the preview and the confirmation the pages keep the uploaded file on the server
(`keep`/`kept`): in the instance folder under a random name that only the uploader's session
holds, removed once confirmed and after KEEP_HOURS at the latest.
"""
from __future__ import annotations

import io
import re
import secrets
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import access, administration, audit, auth
from .auth import Principal
from .errors import NotFound, TooLarge, Unprocessable
from .models import ROLES, UNIT_KINDS, Unit, User

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from .context import Context

MAX_BYTES = 2 * 1024 * 1024
MAX_UNPACKED = 40 * 1024 * 1024
MAX_ROWS = 5000
KEEP_HOURS = 24
UNITS, USERS = "单位", "用户"
TEMPLATE_NAME = "组织架构导入模板.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# (key, header, required)
UNIT_COLUMNS = (("code", "单位编码", True), ("name", "单位名称", True), ("kind", "单位类型", True),
                ("parent", "上级单位编码", False), ("industry", "行业", False), ("leader", "分管区领导账号", False),
                ("department", "主管部门编码", False), ("active", "是否启用", False))
USER_COLUMNS = (("username", "账号", True), ("name", "姓名", True), ("unit", "所属单位编码", False),
                ("roles", "角色", False), ("active", "是否启用", False))
KIND_NAMES = {"department": "区直部门", "street": "街道", "community": "社区", "company": "社区股份公司",
              "office": "巡察办", "leading_group": "领导小组", "discipline": "纪委监委"}
YES, NO = ("是", "启用", "yes", "y", "true", "1"), ("否", "停用", "no", "n", "false", "0")
ROLE_SPLIT = re.compile(r"[、，,;；\s]+")
KEEP_NAME = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass
class Report:
    units_create: int = 0
    units_update: int = 0
    users_create: int = 0
    users_update: int = 0
    errors: list[dict] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)   # what would be created or changed, row by row
    passwords: list[dict] = field(default_factory=list)  # once written: the new accounts' temporary passwords

    def error(self, sheet: str, row: int, column: str, code: str, message: str) -> None:
        self.errors.append({"sheet": sheet, "row": row, "field": column, "code": code, "message": message})

    def as_json(self) -> dict:
        body = {"units": {"create": self.units_create, "update": self.units_update},
                "users": {"create": self.users_create, "update": self.users_update},
                "errors": self.errors, "changes": self.changes}
        if self.passwords:
            body["passwords"] = self.passwords
        return body


class ImportInvalid(Unprocessable):
    """A confirmation (not a dry run) of a workbook with bad rows: nothing is written, and the answer
    carries the whole report, as the dry run does."""

    def __init__(self, report: Report):
        super().__init__(f"{len(report.errors)} row(s) are not valid; nothing was imported",
                         report.errors, code="import_invalid")
        self.report = report

    def body(self) -> dict:
        return {**self.report.as_json(), **super().body()}


# ---------------------------------------------------------------- the template
def template() -> bytes:
    """The workbook to fill in: both sheets with their headers and an example row each, and a sheet
    that lists the accepted unit kinds and role names."""
    from openpyxl import Workbook  # imported here: a process that never imports need not load it

    book = Workbook()
    units = book.active
    assert units is not None
    units.title = UNITS
    _head(units, UNIT_COLUMNS)
    units.append(["JD01", "示例街道", KIND_NAMES["street"], "", "基层治理", "zhang_ld", "BM01", "是"])
    units.append(["BM01", "示例区直部门", KIND_NAMES["department"], "", "行业监管", "", "", "是"])
    users = book.create_sheet(USERS)
    _head(users, USER_COLUMNS)
    users.append(["zhang_ld", "张分管", "", ROLES["leader"], "是"])
    users.append(["jd01_lly", "李联络", "JD01", ROLES["unit_liaison"], "是"])
    notes = book.create_sheet("说明")
    notes.append(["单位类型可填"])
    for name in KIND_NAMES.values():
        notes.append([name])
    notes.append([])
    notes.append(["角色可填（多个用顿号分隔）"])
    for code, name in ROLES.items():
        if code not in access.ADMIN_DUTIES:
            notes.append([name])
    notes.append([])
    notes.append(["已有账号的角色留空即保持不变；角色变更须在“账号与角色”页面经双人审批。"])
    notes.append(["新建账号由系统生成临时密码，导入后显示一次，首次登录须修改。"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _head(sheet: Worksheet, columns) -> None:
    from openpyxl.styles import Font

    sheet.append([header for _, header, _ in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, (_, header, _) in enumerate(columns):
        sheet.column_dimensions[chr(ord("A") + i)].width = max(12, len(header) * 3)


# ---------------------------------------------------------------- reading the file
def _open(content: bytes):
    if not content:
        raise Unprocessable.on_field("file", "import_file_required", "choose an .xlsx file")
    if len(content) > MAX_BYTES:
        raise TooLarge(f"the file is larger than {MAX_BYTES // 1024} KB", code="import_too_large",
                       limit_kb=MAX_BYTES // 1024)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
        if sum(m.file_size for m in members) > MAX_UNPACKED or "[Content_Types].xml" not in archive.namelist():
            raise ValueError("not a workbook, or one that unpacks too large")
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                with archive.open(member) as part:
                    data = part.read(MAX_UNPACKED + 1)
                if len(data) > MAX_UNPACKED or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
                    raise ValueError("a part with a DTD, or too large")
        from openpyxl import load_workbook

        return load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # anything that is not a plain workbook: a zip, a DTD, a broken part
        raise Unprocessable.on_field("file", "import_not_xlsx", "not an Excel workbook (.xlsx)",
                                     f"not an Excel workbook: {exc.__class__.__name__}") from None


def _rows(book, sheet_name: str, columns, report: Report) -> list[tuple[int, dict]]:
    if sheet_name not in book.sheetnames:
        raise Unprocessable(f"the workbook has no sheet {sheet_name}", code="import_sheet_missing", sheet=sheet_name)
    sheet = book[sheet_name]
    rows = sheet.iter_rows()
    header = next(rows, None)
    titles = [str(c.value).strip() if c.value is not None else "" for c in (header or [])]
    index = {}
    for key, title, _ in columns:
        if title not in titles:
            raise Unprocessable(f"sheet {sheet_name} has no column {title}", code="import_header_missing",
                                sheet=sheet_name, column=title)
        index[key] = titles.index(title)
    found = []
    for number, row in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            raise Unprocessable(f"a sheet may have at most {MAX_ROWS} rows", code="import_too_many_rows",
                                limit=MAX_ROWS)
        values: dict = {}
        bad = False
        for key, title, _ in columns:
            i = index[key]
            cell = row[i] if i < len(row) else None
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")):
                report.error(sheet_name, number, title, "import_formula", "formulas are not accepted")
                bad = True
                value = None
            values[key] = "" if value is None else str(value).strip()
            if isinstance(value, float) and value.is_integer():
                values[key] = str(int(value))
        if not any(values.values()) and not bad:
            continue  # an empty row
        values["_bad"] = bad
        found.append((number, values))
    return found


def _flag(value: str) -> bool | None:
    if value == "" or value.lower() in YES:
        return True
    if value.lower() in NO:
        return False
    return None


def _kind(value: str) -> str | None:
    if value in UNIT_KINDS:
        return value
    return next((code for code, name in KIND_NAMES.items() if name == value), None)


def _roles(value: str) -> list[str] | None:
    codes = []
    for part in ROLE_SPLIT.split(value):
        if not part:
            continue
        code = part if part in ROLES else next((c for c, name in ROLES.items() if name == part), None)
        if code is None:
            return None
        codes.append(code)
    return sorted(set(codes))


# ---------------------------------------------------------------- checking and writing
def run(s: Session, p: Principal, content: bytes, dry_run: bool) -> Report:
    """Check the workbook and, unless `dry_run`, write it (in the caller's transaction). A dry run
    answers the report, bad rows and all; a confirmation with a bad row raises ImportInvalid
    (nothing written)."""
    p.require(*access.ADMINISTRATORS)
    book = _open(content)
    report = Report()
    try:
        unit_rows = _rows(book, UNITS, UNIT_COLUMNS, report)
        user_rows = _rows(book, USERS, USER_COLUMNS, report)
    finally:
        book.close()
    units = {u.code: u for u in s.scalars(select(Unit))}
    users = {u.username.lower(): u for u in s.scalars(select(User))}
    planned_units = _check_units(unit_rows, units, users, user_rows, report)
    planned_users = _check_users(user_rows, units, users, planned_units, report)
    _tally(planned_units, planned_users, units, users, report)
    if report.errors and not dry_run:
        raise ImportInvalid(report)
    if dry_run:
        return report
    _write(s, p, planned_units, planned_users, units, users, report)
    return report


def _required(report: Report, sheet: str, number: int, values: dict, columns) -> bool:
    ok = True
    for key, title, required in columns:
        if required and not values[key] and not values["_bad"]:
            report.error(sheet, number, title, "value_required", "required")
            ok = False
    return ok and not values["_bad"]


def _check_units(rows, units: dict, users: dict, user_rows, report: Report) -> dict[str, dict]:
    header = {key: title for key, title, _ in UNIT_COLUMNS}
    file_codes = {v["code"] for _, v in rows if v["code"]}
    file_kinds = {v["code"]: _kind(v["kind"]) for _, v in rows if v["code"]}
    file_leaders = {v["username"].lower() for _, v in user_rows
                    if v["username"] and "leader" in (_roles(v["roles"]) or [])}
    planned: dict[str, dict] = {}
    seen: set[str] = set()
    for number, v in rows:
        duplicate = v["code"] in seen
        seen.add(v["code"])
        if not _required(report, UNITS, number, v, UNIT_COLUMNS):
            continue
        problems = []
        if len(v["code"]) > 40:
            problems.append(("code", "too_long"))
        if len(v["name"]) > 200:
            problems.append(("name", "too_long"))
        if len(v["industry"]) > 100:
            problems.append(("industry", "too_long"))
        if duplicate:
            problems.append(("code", "import_duplicate_row"))
        kind = _kind(v["kind"])
        if kind is None:
            problems.append(("kind", "unknown_unit_kind"))
        if v["parent"] and v["parent"] not in units and v["parent"] not in file_codes:
            problems.append(("parent", "unknown_unit"))
        if v["parent"] and v["parent"] == v["code"]:
            problems.append(("parent", "unit_cycle"))
        if v["department"]:
            dep_kind = file_kinds.get(v["department"]) or (units[v["department"]].kind
                                                           if v["department"] in units else None)
            if dep_kind is None:
                problems.append(("department", "unknown_unit"))
            elif dep_kind != "department":
                problems.append(("department", "not_a_department"))
        if v["leader"]:
            leader = users.get(v["leader"].lower())
            existing_ok = leader is not None and leader.active and "leader" in (leader.roles or [])
            if not existing_ok and v["leader"].lower() not in file_leaders:
                problems.append(("leader", "not_a_leader"))
        active = _flag(v["active"])
        if active is None:
            problems.append(("active", "unknown_value"))
        for key, code in problems:
            report.error(UNITS, number, header[key], code, code.replace("_", " "))
        if not problems:
            planned[v["code"]] = {"row": number, "name": v["name"], "kind": kind, "parent": v["parent"] or None,
                                  "industry": v["industry"] or None, "leader": v["leader"].lower() or None,
                                  "department": v["department"] or None, "active": active}
    # a loop of parents among the file's units (and the database's)
    parents = {code: u.parent_id for code, u in units.items()}
    by_id = {u.id: code for code, u in units.items()}
    chain = {code: by_id.get(pid) for code, pid in parents.items()}
    chain.update({v["code"]: v["parent"] or None for _, v in rows if v["code"]})
    for code, plan in planned.items():
        seen, current = set(), plan["parent"]
        while current is not None and current not in seen:
            if current == code:
                report.error(UNITS, plan["row"], header["parent"], "unit_cycle", "unit cycle")
                break
            seen.add(current)
            current = chain.get(current)
    return planned


def _check_users(rows, units: dict, users: dict, planned_units: dict, report: Report) -> dict[str, dict]:
    header = {key: title for key, title, _ in USER_COLUMNS}
    planned: dict[str, dict] = {}
    seen: set[str] = set()
    for number, v in rows:
        key = v["username"].lower()
        duplicate = key in seen
        seen.add(key)
        if not _required(report, USERS, number, v, USER_COLUMNS):
            continue
        problems = []
        existing = users.get(key)
        if not administration.USERNAME.match(v["username"]):
            problems.append(("username", "invalid_username"))
        if duplicate:
            problems.append(("username", "import_duplicate_row"))
        if len(v["name"]) > 100:
            problems.append(("name", "too_long"))
        if v["unit"] and v["unit"] not in units and v["unit"] not in planned_units:
            problems.append(("unit", "unknown_unit"))
        roles = _roles(v["roles"])
        if roles is None:
            problems.append(("roles", "unknown_role"))
        elif existing is not None:
            if roles and roles != sorted(existing.roles or []):
                problems.append(("roles", "role_change_required"))
            elif any(r in access.ADMIN_DUTIES for r in existing.roles or []):
                problems.append(("username", "admin_duty_protected"))
        else:
            refusal = access.initial_roles_refusal(roles)
            if refusal:
                problems.append(("roles", refusal))
        active = _flag(v["active"])
        if active is None:
            problems.append(("active", "unknown_value"))
        for column, code in problems:
            report.error(USERS, number, header[column], code, code.replace("_", " "))
        if not problems:
            planned[key] = {"row": number, "username": v["username"], "name": v["name"], "unit": v["unit"] or None,
                            "roles": roles, "active": active}
    return planned


def _tally(planned_units: dict, planned_users: dict, units: dict, users: dict, report: Report) -> None:
    """Count what the rows would create and change, and list each (unchanged rows are left out)."""
    unit_codes = {u.id: code for code, u in units.items()}
    usernames = {u.id: key for key, u in users.items()}
    for code, plan in planned_units.items():
        unit = units.get(code)
        if unit is None:
            report.units_create += 1
            report.changes.append({"sheet": UNITS, "row": plan["row"], "key": code, "name": plan["name"],
                                   "action": "create", "fields": []})
            continue
        now = {"name": unit.name, "kind": unit.kind, "industry": unit.industry, "active": bool(unit.active),
               "parent": unit_codes.get(unit.parent_id), "department": unit_codes.get(unit.department_id),
               "leader": usernames.get(unit.leader_id)}
        fields = [title for key, title, _ in UNIT_COLUMNS if key != "code" and now[key] != plan[key]]
        if fields:
            report.units_update += 1
            report.changes.append({"sheet": UNITS, "row": plan["row"], "key": code, "name": plan["name"],
                                   "action": "update", "fields": fields})
    for key, plan in planned_users.items():
        user = users.get(key)
        if user is None:
            report.users_create += 1
            report.changes.append({"sheet": USERS, "row": plan["row"], "key": plan["username"], "name": plan["name"],
                                   "action": "create", "fields": []})
            continue
        now = {"name": user.name, "unit": unit_codes.get(user.unit_id), "active": bool(user.active)}
        fields = [title for column, title, _ in USER_COLUMNS if column in now and now[column] != plan[column]]
        if fields:
            report.users_update += 1
            report.changes.append({"sheet": USERS, "row": plan["row"], "key": plan["username"], "name": plan["name"],
                                   "action": "update", "fields": fields})


def _write(s: Session, p: Principal, planned_units: dict, planned_users: dict, units: dict, users: dict,
           report: Report) -> None:
    """Units first (without their references), then accounts, then each unit's parent, department
    and leader, which may name rows of the same file."""
    for code, plan in planned_units.items():
        unit = units.get(code)
        if unit is None:
            unit = Unit(code=code, name=plan["name"], kind=plan["kind"], industry=plan["industry"],
                        active=plan["active"])
            s.add(unit)
            units[code] = unit
    s.flush()
    for key, plan in planned_users.items():
        user = users.get(key)
        unit_id = units[plan["unit"]].id if plan["unit"] else None
        if user is None:
            password = auth.temporary_password()
            user = User(username=plan["username"], name=plan["name"], unit_id=unit_id, roles=plan["roles"],
                        active=plan["active"], password_hash=auth.hash_password(password), must_change_password=True)
            s.add(user)
            users[key] = user
            report.passwords.append({"username": plan["username"], "name": plan["name"],
                                     "temporary_password": password})
        else:
            user.name, user.unit_id, user.active = plan["name"], unit_id, plan["active"]
    s.flush()
    for code, plan in planned_units.items():
        unit = units[code]
        unit.name, unit.kind, unit.industry, unit.active = plan["name"], plan["kind"], plan["industry"], plan["active"]
        unit.parent_id = units[plan["parent"]].id if plan["parent"] else None
        unit.department_id = units[plan["department"]].id if plan["department"] else None
        unit.leader_id = users[plan["leader"]].id if plan["leader"] else None
    s.flush()
    audit.record(s, "organisation_imported", p, "organisation", detail={
        "units_created": report.units_create, "units_updated": report.units_update,
        "users_created": report.users_create, "users_updated": report.users_update})


# ---------------------------------------------------------------- keeping the file between preview and confirmation
def _folder(instance_dir: Path) -> Path:
    folder = Path(instance_dir) / "org-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep(instance_dir: Path, content: bytes) -> str:
    """Keep an uploaded workbook for its confirmation; the random name returned is its only key.
    Files older than KEEP_HOURS are removed on the way."""
    folder = _folder(instance_dir)
    cutoff = time.time() - KEEP_HOURS * 3600
    for old in folder.glob("*.xlsx"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    name = secrets.token_urlsafe(24)
    (folder / f"{name}.xlsx").write_bytes(content)
    return name


def kept(instance_dir: Path, name: str | None) -> bytes:
    if not name or not KEEP_NAME.match(name):
        raise NotFound("no uploaded file is kept; upload it again", code="import_expired")
    path = _folder(instance_dir) / f"{name}.xlsx"
    if not path.exists() or path.stat().st_mtime < time.time() - KEEP_HOURS * 3600:
        raise NotFound("no uploaded file is kept; upload it again", code="import_expired")
    return path.read_bytes()


def forget(instance_dir: Path, name: str | None) -> None:
    if name and KEEP_NAME.match(name):
        (_folder(instance_dir) / f"{name}.xlsx").unlink(missing_ok=True)



# ---------------------------------------------------------------- the pages' two steps
def check_upload(ctx: Context, p: Principal, content: bytes) -> tuple[str | None, Report]:
    """The preview of an uploaded workbook; when no row is bad the file is kept for its
    confirmation, under the name returned (None when nothing was kept)."""
    with ctx.db.read() as s:
        report = run(s, p, content, dry_run=True)
    name = keep(ctx.settings.instance_dir, content) if not report.errors else None
    return name, report


def confirm_upload(ctx: Context, p: Principal, name: str | None) -> Report:
    """Write the workbook kept at the preview (checked again: the database may have changed since);
    the file is gone afterwards, whether or not it was written."""
    p.require(*access.ADMINISTRATORS)
    content = kept(ctx.settings.instance_dir, name)
    try:
        return ctx.db.transaction(lambda s: run(s, p, content, dry_run=False))
    finally:
        forget(ctx.settings.instance_dir, name)
