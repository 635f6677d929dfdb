"""The error pages a browser can meet are Chinese by default: 403, 404, 405, 413 and 500 as pages
(the API keeps its problem+json), held to the rule of tests/support/chinese.py."""
from __future__ import annotations

import re

from lxml import html as lxml_html
from support.chinese import english_words
from support.pages import session_login

from service.web import html_error


def _texts(page: str) -> list[str]:
    """The text and read-aloud attributes of a page, scripts and styles aside."""
    tree = lxml_html.fromstring(page)
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    texts = [t.strip() for t in tree.xpath("//body//text()") if t.strip() and not t.getparent().get("lang")]
    texts += [v for attr in ("title", "aria-label", "placeholder") for v in tree.xpath(f"//body//@{attr}")]
    return texts + [tree.findtext(".//title") or ""]


def _english(page: str) -> list[str]:
    return [t for t in _texts(page) if english_words(t)]


def test_error_pages_are_chinese(client, ctx, district):
    session_login(client, ctx, district.codes[district.units[2]].lower() + "_liaison")
    pages = {
        404: client.get("/no-such-page"),
        403: client.get("/admin/users"),
        405: client.get("/logout"),
        413: client.post("/account/password", data=b"x" * (client.application.config["MAX_CONTENT_LENGTH"] + 10),
                         content_type="application/x-www-form-urlencoded"),
    }
    for status, response in pages.items():
        assert response.status_code == status
        page = response.get_data(as_text=True)
        assert response.mimetype == "text/html", status
        assert _english(page) == [], (status, _english(page))
        assert re.search(r"[\u4e00-\u9fff]", page), status


def test_the_server_error_page_is_chinese(app):
    with app.test_request_context("/inbox"):
        page, status = html_error(500)
    assert status == 500
    assert "服务器出错" in page or re.search(r"<h1>[^<]*[\u4e00-\u9fff]", page)
    assert _english(page) == [], _english(page)
