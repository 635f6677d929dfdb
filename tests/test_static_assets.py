"""Static files are named by their content: a page links each with its hash, the browser keeps that
copy for good, and a changed file gets a new name so nobody is served yesterday's script."""
from __future__ import annotations

import re


def _linked(client) -> list[str]:
    html = client.get("/login").get_data(as_text=True)
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_link_static_files_by_content_and_browsers_keep_them(client):
    linked = _linked(client)
    assert linked and all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in linked), linked
    for url in linked:
        r = client.get(url)
        assert r.status_code == 200
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable", url


def test_an_unversioned_or_outdated_link_is_revalidated_every_time(client):
    path = _linked(client)[0].split("?")[0]
    for url in (path, f"{path}?v=000000000000"):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache", url
        assert client.get(url, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_a_changed_file_gets_a_new_link(tmp_path):
    from service.web.assets import _Versions

    (tmp_path / "css").mkdir()
    target = tmp_path / "css" / "app.css"
    target.write_text("body { color: black; }", encoding="utf-8")
    versions = _Versions(str(tmp_path))
    first = versions.of("css/app.css")
    target.write_text("body { color: navy; }", encoding="utf-8")  # another size: seen without waiting for mtime
    assert versions.of("css/app.css") != first
    assert versions.of("css/missing.css") is None


def test_the_fonts_a_stylesheet_loads_are_named_by_content_too(client):
    """The designer's BPMN icon font comes from a url() in a stylesheet, not from a page: the
    stylesheet names it by content as well, so a designer opening the page again asks for nothing."""
    css = client.get("/static/vendor/bpmn/bpmn-font/css/bpmn.css").get_data(as_text=True)
    fonts = re.findall(r"url\('\.\./font/([^'#]+)", css)
    assert {f.split("?")[0] for f in fonts} >= {"bpmn.woff2", "bpmn.woff", "bpmn.ttf"}, fonts
    for font in fonts:
        r = client.get(f"/static/vendor/bpmn/bpmn-font/font/{font}")
        assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=31536000, immutable", font
