from __future__ import annotations

from flask import Response, request

from .. import designs, instance_migration
from ..errors import BadRequest
from ..validation import MAX_INT
from . import bp, ctx, listing, payload, principal

VERSION = {"type": "object", "required": ["version"], "additionalProperties": False,
           "properties": {"version": {"type": "integer", "minimum": 1}}}
RETIRE = {"type": "object", "additionalProperties": False,
          "properties": {"current_version": {"type": ["integer", "null"], "minimum": 1}}}
MIGRATION_REQUEST = {
    "type": "object", "required": ["to_version"], "additionalProperties": False,
    "properties": {"to_version": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
                   "dry_run": {"type": "boolean"}},
}


@bp.get("/process-models")
def process_models():
    with ctx().db.read() as s:
        items = designs.list_models(s, principal())
        return listing(items, len(items))


def _body_xml() -> bytes:
    if request.mimetype in ("application/xml", "text/xml", "application/bpmn+xml"):
        return request.get_data()
    if "file" in request.files:
        return request.files["file"].read()
    raise BadRequest("send the BPMN XML as the body (Content-Type: application/xml) or as multipart field 'file'",
                     code="bpmn_required")


@bp.post("/process-models")
def deploy_model():
    xml = _body_xml()
    version, created, warnings = ctx().db.transaction(lambda s: designs.deploy(ctx(), s, principal(), xml))
    return {"key": version.key, "version": version.version, "process_ids": version.process_ids,
            "created": created, "warnings": warnings}, 201 if created else 200


@bp.post("/process-models/checks")
def check_model():
    """The deploy checks without deploying: errors, warnings, and what changes against the current version."""
    xml = _body_xml()
    with ctx().db.read() as s:
        return designs.review(ctx(), s, principal(), xml)


@bp.get("/process-models/<key>/versions")
def model_versions(key):
    with ctx().db.read() as s:
        items = designs.list_versions(s, principal(), key)
        return listing(items, len(items))


@bp.get("/process-models/<key>/versions/<int:version>")
def model_version(key, version):
    with ctx().db.read() as s:
        return designs.version_json(designs.get_version(s, principal(), key, version))


@bp.get("/process-models/<key>/versions/<int:version>/bpmn")
def model_version_bpmn(key, version):
    with ctx().db.read() as s:
        row = designs.get_version(s, principal(), key, version)
        return Response(row.bpmn_xml, mimetype="application/xml")


@bp.put("/process-models/<key>/current")
def make_current(key):
    """New instances of the model start from this version (any deployed one, a retired one too)."""
    version = payload(VERSION)["version"]
    c = ctx()
    c.db.transaction(lambda s: designs.make_current(c, s, principal(), key, version))
    return _version(key, version)


@bp.post("/process-models/<key>/versions/<int:version>/retire")
def retire_version(key, version):
    """No new instance starts from the version; the current one needs `current_version` in its place."""
    current = payload(RETIRE, optional=True).get("current_version")
    c = ctx()
    c.db.transaction(lambda s: designs.retire(c, s, principal(), key, version, current))
    return _version(key, version)


def _version(key: str, version: int) -> dict:
    with ctx().db.read() as s:
        return next(v for v in designs.list_versions(s, principal(), key) if v["version"] == version)


@bp.post("/process-models/<key>/migrations")
def migrate_instances(key):
    """The dry run (`"dry_run": true`, the default) reports which running instances can move to
    `to_version`; `false` queues their migration and answers 202 with the job to follow."""
    body = payload(MIGRATION_REQUEST)
    c = ctx()
    if body.get("dry_run", True):
        with c.db.read() as s:
            return instance_migration.report_json(instance_migration.report(c, s, principal(), key, body["to_version"]))
    found, job = c.db.transaction(lambda s: instance_migration.start(c, s, principal(), key, body["to_version"]))
    return instance_migration.report_json(found, job), 202


@bp.post("/process-instances/<int:instance_id>/rollback-migration")
def rollback_migration(instance_id):
    c = ctx()
    return c.db.transaction(lambda s: instance_migration.rollback(c, s, principal(), instance_id))
