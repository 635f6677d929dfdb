"""Designers deploy BPMN over the API; hostile diagrams are refused before anything runs."""
from __future__ import annotations

import io
import time
from pathlib import Path

import bpmn_snippets as B
import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "bpmn-samples" / "miwg-camunda-modeler"


def deploy(user, xml: bytes):
    return user.post("/process-models", data=xml, content_type="application/xml")


def test_deploy_versions_and_read_back(api, district):
    designer = api.as_("designer1")
    r = deploy(designer, B.one_task(task_name="初审"))
    assert r.status_code == 201 and r.get_json()["version"] == 1
    assert deploy(designer, B.one_task(task_name="初审")).status_code == 200  # unchanged: same version
    r = designer.post("/process-models", data={"file": (io.BytesIO(B.one_task(task_name="复审")), "m.bpmn")},
                      content_type="multipart/form-data")
    assert r.status_code == 201 and r.get_json()["version"] == 2
    models = {m["key"]: m for m in designer.get("/process-models").get_json()["items"]}
    assert models["simple"]["latest_version"] == 2
    assert {"inspection_round", "unit_rectification", "recommendation_letter", "clue_handover"} <= set(models)
    assert designer.get("/process-models/simple/versions/1").get_json()["version"] == 1
    xml = designer.get("/process-models/simple/versions/2/bpmn").data
    assert "复审".encode() in xml
    assert designer.get("/process-models/simple/versions/9").status_code == 404


def test_only_designers_deploy(api, district):
    assert deploy(api.as_("office1"), B.one_task()).status_code == 403


@pytest.mark.parametrize("attack", [
    "__import__('os').system('touch {marker}')",
    "().__class__.__mro__[1].__subclasses__()",
    "open('{marker}', 'w').write('x')",
    "exec(\"open('{marker}', 'w')\")",
])
def test_hostile_script_is_422_with_element_id_and_never_runs(api, district, tmp_path, attack):
    marker = tmp_path / "pwned"
    r = deploy(api.as_("designer1"), B.with_script(attack.format(marker=marker)))
    assert r.status_code == 422
    assert {e["element_id"] for e in r.get_json()["errors"]} == {"calc"}
    assert not marker.exists()


def test_hostile_condition_is_422_with_element_id(api, district):
    r = deploy(api.as_("designer1"), B.with_condition("__import__('os').getcwd() != ''"))
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["element_id"] == "f_cond"


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s" name="&xxe;"/></bpmn:process></bpmn:definitions>"""
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">""" + b"".join(
    b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10) for i in range(1, 10)
) + b"""]><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<bpmn:process id="p"><bpmn:startEvent id="s" name="&lol9;"/></bpmn:process></bpmn:definitions>"""


@pytest.mark.parametrize("xml", [XXE, LAUGHS, b"<not-closed", b"plain text"], ids=["xxe", "laughs", "broken", "text"])
def test_hostile_or_broken_xml_is_rejected_quickly(api, district, xml):
    started = time.perf_counter()
    r = deploy(api.as_("designer1"), xml)
    assert r.status_code == 422
    assert time.perf_counter() - started < 2  # an expanding parser would take far longer
    assert "passwd" not in r.get_data(as_text=True) or "root:" not in r.get_data(as_text=True)


def test_oversized_bpmn_is_413(api, district):
    huge = B.one_task().replace(b"</bpmn:definitions>", b"<!--" + b"x" * (3 * 1024 * 1024) + b"--></bpmn:definitions>")
    assert deploy(api.as_("designer1"), huge).status_code == 413


@pytest.mark.skipif(not SAMPLES.exists(), reason="the shared Camunda Modeler samples are not beside the checkout")
def test_camunda_modeler_diagrams_deploy_or_get_a_clear_422(api, district):
    designer = api.as_("designer1")
    outcomes = {}
    for path in sorted(SAMPLES.glob("*.bpmn")):
        r = deploy(designer, path.read_bytes())
        assert r.status_code in (200, 201, 422), (path.name, r.status_code, r.get_data(as_text=True)[:300])
        if r.status_code == 422:
            assert all(e["message"] for e in r.get_json()["errors"]), path.name
        outcomes[path.name] = r.status_code
    assert any(code == 201 for code in outcomes.values()), outcomes
