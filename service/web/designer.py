"""The process designer: model list, the bpmn-js modeler, server-side validation and deploy.

Designers (and admins) edit and deploy; the office may look at every version read-only
(`access.DESIGN_READERS`). The browser does the drawing; the server stays the only judge of
whether a diagram can run: "validate" runs the very checks a deploy runs (XML safety, the BPMN
schema, the script/expression allow-list, SpiffWorkflow's parser, form keys) without saving,
so a designer sees every refusal at the offending element before deploying.
"""
from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from workflows.registry import NS
from workflows.xml_safety import parse_xml

from .. import access, designs
from ..auth import Principal
from ..context import Context, lane_role
from ..errors import ApiError, BadRequest, Forbidden
from ..models import ROLES
from . import ctx, fmt_time, principal
from .i18n import _, get_language, js_counted, js_text, ngettext, pgettext
from .problems import deploy_errors, error_text

bp: Blueprint = Blueprint("designer", __name__, url_prefix="/designer")

# A process id becomes the model key: an XML NCName, kept short and ASCII so it is also a safe URL part.
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,79}$")


# ---------------------------------------------------------------- validation (no saving)
def validate_bpmn(c: Context, s: Session, p: Principal, xml: bytes) -> dict:
    """What a deploy would refuse (errors), what is legal but probably unintended (warnings, which
    the designer confirms before deploying; a lane that names no role sends its tasks to the office)
    and what changes against the current version."""
    review = designs.review(c, s, p, xml)
    if review["errors"]:
        return {**review, "errors": deploy_errors(review["errors"])}
    return {**review, "warnings": deploy_errors(review["warnings"]) + lane_warnings(parse_xml(xml))}


def lane_warnings(root) -> list[dict]:
    """Lanes and candidate groups whose name maps to no role: their tasks land with the office (user
    tasks in no lane are the deploy checks' `user_task_unassigned`)."""
    warnings = []
    roles = "、".join(ROLES.values())
    for lane in root.iter("{%s}lane" % NS["bpmn"]):
        name = lane.get("name") or ""
        if lane.find("bpmn:childLaneSet", NS) is None and lane_role(name) is None:
            warnings.append({"element_id": lane.get("id"),
                             "message": _("Lane “%(lane)s” names no role; its tasks go to the inspection office. "
                                          "Roles: %(roles)s", lane=name, roles=roles)})
    for task in root.iter("{%s}userTask" % NS["bpmn"]):
        groups = (task.get("{%s}candidateGroups" % NS["camunda"]) or "").strip()
        for group in ([] if groups.startswith("${") else [g.strip() for g in groups.split(",") if g.strip()]):
            if lane_role(group) is None:
                warnings.append({"element_id": task.get("id"),
                                 "message": _("Candidate group “%(group)s” names no role; it stands for the "
                                              "inspection office. Roles: %(roles)s", group=group, roles=roles)})
    return warnings


# ---------------------------------------------------------------- views
# The JSON endpoints the page's script calls: their errors stay problem+json for the script to read.
JSON_ENDPOINTS = {"designer.validate", "designer.deploy", "designer.template", "designer.version_bpmn"}


def _body_xml() -> bytes:
    if request.mimetype in ("application/xml", "text/xml", "application/bpmn+xml"):
        return request.get_data()
    if "file" in request.files:
        return request.files["file"].read()
    raise BadRequest("send the BPMN XML as the body (Content-Type: application/xml) or as multipart field 'file'")


def _models(s: Session, p: Principal) -> list[dict]:
    """Every model with all its versions, newest first: the designer's sidebar."""
    models = designs.list_models(s, p)
    for model in models:
        model["versions"] = list(reversed(designs.list_versions(s, p, model["key"])))
        for v in model["versions"]:
            v["deployed_local"] = fmt_time(datetime.fromisoformat(v["deployed_at"]))
    return models


def js_messages() -> dict:
    """The texts the page's script shows, with `{name}` for what it fills in; a count's text comes
    in both forms and the script picks one (`js_counted`)."""
    return {
        "error": _("Error"), "warning": pgettext("validation", "Warning"),
        "not_on_diagram": _("(not on the diagram)"), "whole_document": _("Whole document"),
        "discard_changes": _("The open diagram has changes that are not deployed. Discard them?"),
        "opened": _("Opened."),
        "opened_with_warnings": js_counted(lambda k: ngettext(
            "Opened with %(n)s import warning.", "Opened with %(n)s import warnings.", k, n="{n}")),
        "import_failed": js_text(_("The diagram cannot be opened: %(detail)s")),
        "loading": _("Loading…"), "load_failed": js_text(_("Loading failed (%(status)s).")),
        "version_label": js_text(_("%(key)s · version %(version)s")), "validating": _("Validating…"),
        "request_failed": js_text(_("The request failed (%(status)s): %(detail)s")),
        "invalid": js_counted(lambda k: ngettext(
            "%(n)s problem found; fix it before deploying.", "%(n)s problems found; fix them before deploying.",
            k, n="{n}")),
        "valid": _("Valid: ready to deploy."), "deploying": _("Deploying…"),
        "confirm_warnings": js_counted(lambda k: ngettext(
            "%(n)s warning: deploy anyway?", "%(n)s warnings: deploy anyway?", k, n="{n}")),
        "changes_base": js_text(_("Against the current version %(version)s:", version="{version}")),
        "changes_new": _("A new model: no version of it is deployed yet."),
        "changes_none": _("No element is added, removed or renamed."),
        "change_added": js_text(_("Added: %(element)s", element="{element}")),
        "change_removed": js_text(_("Removed: %(element)s", element="{element}")),
        "change_renamed": js_text(_("Renamed: %(old)s → %(new)s (%(id)s)", old="{old}", new="{new}", id="{id}")),
        "unnamed": _("(unnamed)"),
        "deploy_cancelled": _("Not deployed."),
        "deployed": js_text(_("Deployed: %(key)s version %(version)s.")),
        "unchanged": js_text(_("Deployed already as %(key)s version %(version)s; it is the current version again.")),
        "deploy_refused": js_counted(lambda k: ngettext(
            "Deployment refused: %(n)s problem.", "Deployment refused: %(n)s problems.", k, n="{n}")),
        "new_label": js_text(_("New diagram %(key)s (not deployed)")),
        "too_large": js_text(_("The file is larger than the %(kb)s KB limit.")),
        "file_label": js_text(_("File %(name)s (not deployed)")),
        "xml_empty": _("The XML pane is empty: there is no diagram to apply."),
        "xml_refused": js_counted(lambda k: ngettext(
            "The XML was not applied: %(n)s problem; the open diagram is unchanged.",
            "The XML was not applied: %(n)s problems; the open diagram is unchanged.", k, n="{n}")),
        "xml_applied": _("The XML was checked and applied to the open diagram (not deployed yet)."),
    }


@bp.get("/")
def index():
    """The designer page; `?key=&version=` opens that version (default: the first model's latest)."""
    p = principal()
    p.require(*access.DESIGN_READERS)
    c = ctx()
    with c.db.read() as s:
        models = _models(s, p)
    key = request.args.get("key")
    version = request.args.get("version", type=int)
    chosen = next((m for m in models if m["key"] == key), None) or (models[0] if models and not key else None)
    initial = None
    if chosen is not None:
        numbers = [v["version"] for v in chosen["versions"]]
        initial = {"key": chosen["key"], "version": version if version in numbers else chosen["latest_version"]}
    can_edit = p.has(*access.DESIGNERS)
    base = url_for("designer.index")
    config = {
        "can_edit": can_edit, "initial": initial, "max_bytes": c.settings.max_bpmn_kb * 1024,
        "urls": {"validate": url_for("designer.validate"), "deploy": url_for("designer.deploy"),
                 "template": url_for("designer.template"), "models": url_for("designer.models_fragment"),
                 "bpmn": base + "models/{key}/versions/{version}/bpmn"},
        "messages": js_messages(), "language": get_language(),
    }
    return render_template("designer/index.html", models=models, initial=initial, can_edit=can_edit,
                           config=config)


@bp.get("/models")
def models_fragment():
    """The sidebar alone, re-rendered after a deploy so the new version shows up without a reload."""
    with ctx().db.read() as s:
        models = _models(s, principal())
    return render_template("designer/_models.html", models=models, initial=None)


@bp.get("/models/<key>/versions/<int:version>/bpmn")
def version_bpmn(key: str, version: int):
    with ctx().db.read() as s:
        row = designs.get_version(s, principal(), key, version)
        return Response(row.bpmn_xml, mimetype="application/xml",
                        headers={"Content-Disposition": f'inline; filename="{key}-v{version}.bpmn"'})


@bp.get("/template.bpmn")
def template():
    """A new diagram in the Camunda 7 dialect: one pool, an office lane, start -> user task -> end."""
    principal().require(*access.DESIGNERS)
    key = (request.args.get("key") or "").strip()
    if not KEY_RE.match(key):
        raise BadRequest(_("The process key must start with a letter or _ and contain only letters, digits, _ and - "
                           "(at most 80 characters)."))
    name = (request.args.get("name") or "").strip()[:200] or key
    xml = render_template("designer/new_diagram.bpmn.xml", key=key, name=name, lane=ROLES["office"],
                          start_name=_("Start"), task_name=_("Handle"), end_name=_("End"))
    return Response(xml, mimetype="application/xml")


@bp.post("/validate")
def validate():
    """Run the deploy checks on the posted XML; 200 with `{"errors": [], "warnings": []}` either way."""
    p = principal()
    if not p.has(*access.DESIGNERS):
        raise Forbidden("validating a diagram is for designers")
    c = ctx()
    with c.db.read() as s:
        return validate_bpmn(c, s, p, _body_xml())


@bp.post("/deploy")
def deploy():
    """Deploy the posted XML as the next version (422 with element errors when it cannot run)."""
    c = ctx()
    xml = _body_xml()
    version, created, warnings = c.db.transaction(lambda s: designs.deploy(c, s, principal(), xml))
    return {"key": version.key, "version": version.version, "name": version.name,
            "process_ids": version.process_ids, "created": created,
            "warnings": deploy_errors(warnings)}, 201 if created else 200



# ---------------------------------------------------------------- versions: which one new instances start from
@bp.get("/models/<key>/versions")
def versions(key: str):
    """Every version of a model: which is current, which are retired, how many instances run on each;
    designers make one current or retire one (each after a confirmation page)."""
    p = principal()
    with ctx().db.read() as s:
        rows = list(reversed(designs.list_versions(s, p, key)))
    for v in rows:
        v["deployed_local"] = fmt_time(datetime.fromisoformat(v["deployed_at"]))
        v["retired_local"] = fmt_time(datetime.fromisoformat(v["retired_at"])) if v["retired_at"] else ""
    return render_template("designer/versions.html", key=key, name=rows[0]["name"], versions=rows,
                           can_choose=access.may_choose_versions(p))


@bp.get("/models/<key>/versions/<int:version>/<any(current, retire):action>")
def confirm_version(key: str, version: int, action: str):
    """Ask before a version is made current or retired, saying what it changes."""
    p = principal()
    p.require(*access.DESIGNERS)
    with ctx().db.read() as s:
        rows = list(reversed(designs.list_versions(s, p, key)))
    chosen = next((v for v in rows if v["version"] == version), None)
    if chosen is None:
        return redirect(url_for("designer.versions", key=key))
    others = [v for v in rows if v["version"] != version]
    return render_template("designer/version_confirm.html", key=key, name=rows[0]["name"], version=chosen,
                           action=action, others=others)


@bp.post("/models/<key>/versions/<int:version>/current")
def make_current(key: str, version: int):
    c = ctx()
    return _version_act(key, lambda s: designs.make_current(c, s, principal(), key, version),
                        _("Version %(n)s is current: new instances start from it.", n=version))


@bp.post("/models/<key>/versions/<int:version>/retire")
def retire(key: str, version: int):
    c = ctx()
    current = request.form.get("current_version", type=int)
    return _version_act(key, lambda s: designs.retire(c, s, principal(), key, version, current),
                        _("Version %(n)s is retired: no new instance starts from it.", n=version))


def _version_act(key: str, act, done: str):
    try:
        ctx().db.transaction(act)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        flash(error_text(exc.code, exc.params), "error")
    else:
        flash(done, "success")
    return redirect(url_for("designer.versions", key=key))
