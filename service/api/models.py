from __future__ import annotations

from flask import Response, request

from .. import designs, instance_migration
from ..errors import BadRequest
from ..validation import MAX_INT
from . import bp, ctx, listing, payload, principal

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


@bp.post("/process-models")
def deploy_model():
    if request.mimetype in ("application/xml", "text/xml", "application/bpmn+xml"):
        xml = request.get_data()
    elif "file" in request.files:
        xml = request.files["file"].read()
    else:
        raise BadRequest("send the BPMN XML as the body (Content-Type: application/xml) or as multipart field 'file'",
                         code="bpmn_required")
    version, created = ctx().db.transaction(lambda s: designs.deploy(ctx(), s, principal(), xml))
    return {"key": version.key, "version": version.version, "process_ids": version.process_ids,
            "created": created}, 201 if created else 200


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
