"""What travels: text is compressed when the browser accepts it (and only then), pages and diagrams
opened again cost a 304, and downloads arrive as the very bytes they were."""
from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import brotli
import pytest
from flask import Flask
from openpyxl import load_workbook
from support.pages import Pages
from support.returns import PDF, file_case, rectify, self_check, unit_case

from service.web.transfer import MIN_SIZE, _built_copy


def _decoded(r) -> bytes:
    encoding = r.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(r.data)
    if encoding == "gzip":
        return gzip.decompress(r.data)
    assert encoding is None, encoding
    return r.data


@pytest.fixture
def office(client, district):
    pages = Pages(client)
    pages.login("office1")
    return pages


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_pages_json_and_scripts_are_compressed_when_the_browser_asks(office, api, encoding):
    plain = office.get("/inbox")
    assert "Content-Encoding" not in plain.headers and "Accept-Encoding" in plain.headers["Vary"]
    packed = office.get("/inbox", headers={"Accept-Encoding": encoding})
    assert packed.headers["Content-Encoding"] == encoding
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data)
    # the same page but for its CSRF token, which is signed anew at each render
    token = re.compile(rb'[\w.-]{40,}')
    assert token.sub(b"", _decoded(packed)) == token.sub(b"", plain.data)

    json = api.as_("designer1").get("/openapi.json", headers={"Accept-Encoding": encoding})
    assert json.headers["Content-Encoding"] == encoding and json.mimetype == "application/json"
    problem = api.as_("office1").get("/cases/999999", headers={"Accept-Encoding": encoding})
    assert problem.status_code == 404 and "Content-Encoding" not in problem.headers  # an error: small, sent as it is

    script = re.search(r'src="(/static/vendor/htmx/[^"]+)"', plain.get_data(as_text=True)).group(1)
    raw = office.get(script)
    js = office.get(script, headers={"Accept-Encoding": f"{encoding}, identity"})
    assert js.headers["Content-Encoding"] == encoding and _decoded(js) == raw.data
    assert office.get(script, headers={"Accept-Encoding": encoding}).data == js.data  # kept, not compressed again
    assert js.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert js.headers["ETag"] != raw.headers["ETag"]  # each encoding its own validator
    assert office.get(script, headers={"Accept-Encoding": encoding,
                                       "If-None-Match": js.headers["ETag"]}).status_code == 304


def test_the_builds_brotli_copy_of_a_bundle_is_sent_while_it_matches_the_file(app, office, tmp_path):
    for bundle in ("vendor/echarts/echarts.min.js", "vendor/bpmn/rectiflow-modeler.js"):
        built = (Path(app.static_folder) / f"{bundle}.br").read_bytes()
        raw = office.get(f"/static/{bundle}")
        packed = office.get(f"/static/{bundle}", headers={"Accept-Encoding": "gzip, deflate, br"})
        assert packed.headers["Content-Encoding"] == "br" and packed.data == built
        assert brotli.decompress(packed.data) == raw.data
        assert len(built) < len(brotli.compress(raw.data, quality=5)) * 0.95  # what the service would send
        assert office.get(f"/static/{bundle}", headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"

    # a copy that no longer matches its file (edited after the build) is not used
    site = Flask("site", static_folder=str(tmp_path), static_url_path="/static")
    script = tmp_path / "app.js"
    script.write_bytes(b"var a = 1;\n" * 2000)
    (tmp_path / "app.js.br").write_bytes(brotli.compress(b"var a = 2;\n" * 2000))
    assert _built_copy(site, "br;/static/app.js|etag") is None
    (tmp_path / "app.js.br").write_bytes(brotli.compress(script.read_bytes(), quality=11))
    assert _built_copy(site, "br;/static/app.js|etag") == (tmp_path / "app.js.br").read_bytes()
    assert _built_copy(site, "gzip;/static/app.js|etag") is None
    assert _built_copy(site, "br;/static/../app.js|etag") is None


def test_tiny_and_already_compressed_responses_are_sent_as_they_are(office, api, district):
    small = api.as_("office1").get("/me", headers={"Accept-Encoding": "gzip, br"})
    assert small.status_code == 200 and len(small.data) < MIN_SIZE and "Content-Encoding" not in small.headers
    xlsx = office.get("/dashboard/lists/rectifications.xlsx", headers={"Accept-Encoding": "gzip, br"})
    assert xlsx.status_code == 200 and "Content-Encoding" not in xlsx.headers


def test_a_page_opened_again_is_a_304_until_it_changes(office, api, district):
    first = office.get("/inbox")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = office.get("/inbox", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    # compressed, the page has a validator of its own that is honoured too
    packed = office.get("/inbox", headers={"Accept-Encoding": "br"})
    assert packed.headers["ETag"] != etag
    assert office.get("/inbox", headers={"Accept-Encoding": "br", "If-None-Match": packed.headers["ETag"]}) \
        .status_code == 304
    # another page, or another person's, is not that page
    assert office.get("/rounds", headers={"If-None-Match": etag}).status_code == 200
    other = Pages(office.client.application.test_client())
    other.login("leader1")
    assert other.get("/inbox", headers={"If-None-Match": etag}).status_code == 200


def test_the_bpmn_of_a_model_version_is_revalidated_by_etag(office, api, district):
    designer = api.as_("designer1")
    first = designer.get("/process-models/unit_rectification/versions/1/bpmn")
    assert first.status_code == 200 and first.data.startswith(b"<?xml")
    again = designer.get("/process-models/unit_rectification/versions/1/bpmn",
                         headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    packed = designer.get("/process-models/unit_rectification/versions/1/bpmn", headers={"Accept-Encoding": "br"})
    assert packed.headers["Content-Encoding"] == "br" and _decoded(packed) == first.data
    assert packed.headers["Content-Security-Policy"] == "sandbox"  # still never run by a browser
    assert designer.get("/process-models/unit_rectification/versions/1/bpmn",
                        headers={"Accept-Encoding": "br", "If-None-Match": packed.headers["ETag"]}).status_code == 304


def test_downloads_are_the_same_bytes_with_or_without_compression(office, api, district):
    uc = unit_case(api, district)
    unit = api.as_(uc.liaison)
    self_check(api, uc)
    rectify(api, uc)
    upload = unit.post(f"/cases/{uc.case_id}/evidence", data={"file": (io.BytesIO(PDF), "台账.pdf")},
                       content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_json()
    evidence_id = upload.get_json()["id"]
    file_case(api, uc)  # the unit's 整改报告 (docx) is issued
    [report] = unit.get(f"/cases/{uc.case_id}/documents").get_json()["items"]
    stored = [  # kept as uploaded or as issued: the very bytes every time
        lambda **kw: unit.get(f"/evidence/{evidence_id}/content", **kw),
        lambda **kw: unit.get(f"/documents/{report['id']}/content", **kw),
    ]
    for download in stored:
        plain = download()
        assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
        for encoding in ("gzip", "br", "gzip, deflate, br, zstd"):
            packed = download(headers={"Accept-Encoding": encoding})
            assert packed.status_code == 200 and _decoded(packed) == plain.data
            assert int(packed.headers["Content-Length"]) == len(packed.data)
    assert stored[0]().data == PDF
    assert stored[1]().data.startswith(b"PK")  # the 整改报告, a docx
    # workbooks made at each request (their zip entries carry the time): sent as made, never re-encoded
    generated = [
        lambda **kw: office.get(f"/dashboard/lists/rectifications.xlsx?round_id={uc.round_id}", **kw),
        lambda **kw: api.as_("admin").get("/org/import-template", **kw),
    ]
    for download in generated:
        packed = download(headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
        assert packed.status_code == 200 and "Content-Encoding" not in packed.headers
        assert int(packed.headers["Content-Length"]) == len(packed.data)
        assert _cells(packed.data) == _cells(download().data)


def _cells(workbook: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(workbook)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_every_kind_of_text_is_compressed_when_the_browser_asks(app, office, api, district, encoding):
    """Each text the pages are made of (HTML, JSON, JavaScript, CSS, BPMN XML) arrives compressed
    when the browser offers the encoding, and decodes to what an uncompressing browser gets."""
    designer = Pages(app.test_client())
    designer.login("designer1")
    html = designer.text("/designer/") + office.text("/dashboard/") + office.text("/instances/")
    assets = sorted(set(re.findall(r'(?:src|href)="(/static/[^"?]+\.(?:js|css)(?:\?[^"]*)?)"', html)))
    assert {a.split("?")[0].rsplit(".", 1)[1] for a in assets} == {"js", "css"} and \
        any("rectiflow-modeler" in a for a in assets), assets
    responses = {path: (designer if "designer" in path else office).get(path, headers={"Accept-Encoding": encoding})
                 for path in ["/designer/", "/dashboard/", "/inbox", *assets,
                              "/designer/models/unit_rectification/versions/1/bpmn",
                              "/designer/template.bpmn?key=new_process&name=x"]}
    responses["API /openapi.json"] = api.as_("designer1").get("/openapi.json", headers={"Accept-Encoding": encoding})
    responses["API bpmn"] = api.as_("designer1").get("/process-models/unit_rectification/versions/1/bpmn",
                                                     headers={"Accept-Encoding": encoding})
    kinds = set()
    for path, r in responses.items():
        assert r.status_code == 200, (path, r.status_code)
        assert r.headers.get("Content-Encoding") == encoding, (path, r.mimetype, len(r.data))
        assert "Accept-Encoding" in r.headers["Vary"], path
        kinds.add(r.mimetype)
        if path.startswith("/static/"):  # the very file
            assert _decoded(r) == designer.get(path).data, path
        else:
            assert _decoded(r).lstrip()[:1] in (b"<", b"{"), path
    assert {"text/html", "application/json", "text/javascript", "text/css", "application/xml"} <= kinds, kinds
