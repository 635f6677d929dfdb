"""The web pages through Flask's test client: a person with a browser, or a session set directly."""
from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from .district import PASSWORD, user_id

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page carries no CSRF token"
    return match.group(1) or match.group(2)


class Pages:
    """The Flask test client as a person with a browser: logs in through the form, posts with the
    page's CSRF token."""

    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD, follow: bool = False):
        token = csrf_token(self.client.get("/login").get_data(as_text=True))
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                                follow_redirects=follow)

    def token(self, path: str = "/inbox") -> str:
        return csrf_token(self.client.get(path).get_data(as_text=True))

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def text(self, path: str, status: int = 200) -> str:
        r = self.client.get(path)
        assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:2000])
        return r.get_data(as_text=True)

    def post(self, path: str, data: dict | list | None = None, token_from: str = "/inbox", **kw):
        data = dict(data or {}) if not isinstance(data, list) else data
        token = self.token(token_from)
        if isinstance(data, list):  # repeated names (checkboxes)
            data = MultiDict(data + [("csrf_token", token)])
        else:
            data.setdefault("csrf_token", token)
        return self.client.post(path, data=data, **kw)


def session_login(client, ctx, username: str) -> str:
    """Log in through the session cookie and return the CSRF token a page's script would send."""
    with client.session_transaction() as sess:
        sess.clear()
        sess["uid"] = user_id(ctx, username)
    html = client.get("/inbox").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "the page frame carries a CSRF token"
    return match.group(1)
