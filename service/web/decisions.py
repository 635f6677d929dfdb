"""The decisions page of the designer: deployed DMN decisions, dmn-js's decision table editor, deploy.

Pages of the designer blueprint (`/designer/decisions`); the server stays the only judge of what
runs: a deploy answers with the refusals of `workflows.decisions`, which `page_error` words by code.
"""
from __future__ import annotations

from datetime import datetime

from flask import Response, render_template, request, url_for

from .. import access, decisions
from ..errors import BadRequest
from . import ctx, fmt_time, principal
from .designer import KEY_RE, bp
from .i18n import _, get_language, js_counted, js_text, ngettext

# The JSON endpoints the page's script calls (problem+json errors, see `page_error`).
JSON_ENDPOINTS = {"designer.deploy_decision", "designer.decision_dmn", "designer.decision_template"}


def _messages() -> dict:
    return {
        "loading": _("Loading…"), "load_failed": js_text(_("Loading failed (%(status)s).")),
        "opened": js_text(_("%(key)s · version %(version)s")), "deploying": _("Deploying…"),
        "deployed": js_text(_("Deployed: %(key)s version %(version)s.")),
        "unchanged": js_text(_("Deployed already as %(key)s version %(version)s; it is the current version again.")),
        "deploy_refused": js_counted(lambda k: ngettext(
            "Deployment refused: %(n)s problem.", "Deployment refused: %(n)s problems.", k, n="{n}")),
        "request_failed": js_text(_("The request failed (%(status)s): %(detail)s")),
        "import_failed": js_text(_("The decision table cannot be opened: %(detail)s")),
        "new_label": js_text(_("New decision %(key)s (not deployed)")), "file_label": js_text(_("File %(name)s (not deployed)")),
        "discard_changes": _("The open decision table has changes that are not deployed. Discard them?"),
        "whole_document": _("Whole document"),
    }


def _decisions(p) -> list[dict]:
    with ctx().db.read() as s:
        rows = decisions.list_decisions(s, p)
        for row in rows:
            row["versions"] = list(reversed(decisions.list_versions(s, p, row["key"])))
            for v in row["versions"]:
                v["deployed_local"] = fmt_time(datetime.fromisoformat(v["deployed_at"]))
    return rows


@bp.get("/decisions")
def decisions_page():
    """Deployed decisions with their versions; `?key=&version=` opens one (default: the first's current)."""
    p = principal()
    p.require(*access.DESIGN_READERS)
    rows = _decisions(p)
    key, version = request.args.get("key"), request.args.get("version", type=int)
    chosen = next((d for d in rows if d["key"] == key), None) or (rows[0] if rows and not key else None)
    initial = None
    if chosen is not None:
        numbers = [v["version"] for v in chosen["versions"]]
        initial = {"key": chosen["key"], "version": version if version in numbers else chosen["current_version"]}
    can_edit = p.has(*access.DESIGNERS)
    config = {"can_edit": can_edit, "initial": initial, "messages": _messages(), "language": get_language(),
              "urls": {"deploy": url_for("designer.deploy_decision"), "template": url_for("designer.decision_template"),
                       "dmn": url_for("designer.decisions_page") + "/{key}/versions/{version}/dmn",
                       "page": url_for("designer.decisions_page")}}
    return render_template("designer/decisions.html", decisions=rows, initial=initial, can_edit=can_edit,
                           config=config)


@bp.get("/decisions/<key>/versions/<int:version>/dmn")
def decision_dmn(key: str, version: int):
    with ctx().db.read() as s:
        row = decisions.get_version(s, principal(), key, version)
        return Response(row.dmn_xml, mimetype="application/xml",
                        headers={"Content-Disposition": f'inline; filename="{key}-v{version}.dmn"'})


@bp.get("/decisions/template.dmn")
def decision_template():
    """A new decision table: one input, one output, one rule, as Camunda Modeler would start it."""
    principal().require(*access.DESIGNERS)
    key = (request.args.get("key") or "").strip()
    if not KEY_RE.match(key):
        raise BadRequest(_("The decision id must start with a letter or _ and contain only letters, digits, _ and - "
                           "(at most 80 characters)."))
    name = (request.args.get("name") or "").strip()[:200] or key
    xml = render_template("designer/new_decision.dmn.xml", key=key, name=name, input=_("Input"), output=_("Output"))
    return Response(xml, mimetype="application/xml")


@bp.post("/decisions/deploy")
def deploy_decision():
    if request.mimetype not in ("application/xml", "text/xml"):
        raise BadRequest("send the DMN XML as the body (Content-Type: application/xml)", code="dmn_required")
    c, xml = ctx(), request.get_data()
    version, created, _models = c.db.transaction(lambda s: decisions.deploy(c, s, principal(), xml))
    return {"key": version.key, "version": version.version, "name": version.name, "created": created,
            "url": url_for("designer.decisions_page", key=version.key, version=version.version)}, \
        201 if created else 200
