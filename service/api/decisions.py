"""DMN decisions over the API: a sibling of /process-models, since a decision is its own model kind."""
from __future__ import annotations

from flask import Response, request

from .. import decisions
from ..errors import BadRequest
from . import bp, ctx, listing, principal


def _body_xml() -> bytes:
    if request.mimetype in ("application/xml", "text/xml", "application/dmn+xml"):
        return request.get_data()
    if "file" in request.files:
        return request.files["file"].read()
    raise BadRequest("send the DMN XML as the body (Content-Type: application/xml) or as multipart field 'file'",
                     code="dmn_required")


@bp.get("/decisions")
def decision_list():
    with ctx().db.read() as s:
        items = decisions.list_decisions(s, principal())
        return listing(items, len(items))


@bp.post("/decisions")
def deploy_decision():
    xml = _body_xml()
    version, created, models = ctx().db.transaction(lambda s: decisions.deploy(ctx(), s, principal(), xml))
    return {"key": version.key, "name": version.name, "version": version.version, "created": created,
            "process_models": models}, 201 if created else 200


@bp.get("/decisions/<key>/versions")
def decision_versions(key):
    with ctx().db.read() as s:
        items = decisions.list_versions(s, principal(), key)
        return listing(items, len(items))


@bp.get("/decisions/<key>/versions/<int:version>/dmn")
def decision_dmn(key, version):
    with ctx().db.read() as s:
        return Response(decisions.get_version(s, principal(), key, version).dmn_xml, mimetype="application/xml")
