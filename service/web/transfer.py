"""Fewer bytes on the wire: text compressed (brotli or gzip, as the browser accepts), and pages and
BPMN diagrams revalidated by ETag, so a page opened again costs a 304 instead of its body.

On a district's slow line the instance view's diagram and the dashboard's lists are most of a
visit; they are text and shrink to a fifth. What is compressed already (xlsx, docx, PDF, images,
zip) is sent as it is, and so is anything under `MIN_SIZE`, where the header costs more than it saves.

flask-compress does the encoding (`Vary: Accept-Encoding`; a strong ETag gets the encoding appended,
`"abc:br"`, so a cache never mixes the encodings up). It is called from `_transfer` rather than
registered by itself, because two kinds of response must keep their bytes as they are:
a partial response (206, a Range of a file: its Content-Range counts the bytes as they are) and one
that is encoded already.

A page's ETag is the hash of its body without its CSRF token: flask-wtf signs the same session token
anew with the time at every render, so a body hash alone would never repeat. The session's own token
takes part instead, so that after a new login (a new token) a page is sent again, never a copy
whose forms would be refused.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import brotli
from flask import Flask, Response, g, request, session
from flask_compress import Compress
from werkzeug.security import safe_join

MIN_SIZE = 500
COMPRESSED_TYPES = [
    "text/html", "text/css", "text/plain", "text/csv", "text/xml", "text/javascript",
    "application/javascript", "application/json", "application/problem+json", "application/xml",
    "image/svg+xml",
]
# revalidated by ETag: what is derived from the data at each request and read again and again
REVALIDATED_TYPES = {"text/html", "application/xml"}

compress = Compress()
static_compress = Compress()  # the same, keeping what it compressed: a static file is the same for everyone


class _Recent:
    """The last compressed static files (the modeler bundle alone takes 0.1 s to compress), keyed by
    the algorithm, the file's path and its ETag (its modification time and size), so a changed file is
    compressed anew. One not kept yet may come from `load` (the build's own brotli copy)."""

    def __init__(self, load: Callable[[str], bytes | None], size: int = 64) -> None:
        self.load, self.size, self.items = load, size, OrderedDict[str, bytes]()

    def get(self, key: str) -> bytes | None:
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        return self.load(key)

    def set(self, key: str, value: bytes) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


def init_app(app: Flask) -> None:
    """Register before every other after_request function: Flask runs them in reverse, so this one
    runs last and sees the body and headers as they will be sent."""
    app.config.update(COMPRESS_REGISTER=False, COMPRESS_MIMETYPES=COMPRESSED_TYPES, COMPRESS_MIN_SIZE=MIN_SIZE,
                      COMPRESS_ALGORITHM=["br", "gzip"], COMPRESS_ALGORITHM_STREAMING=["br", "deflate"],
                      COMPRESS_BR_LEVEL=5)
    compress.init_app(app)
    static_compress.init_app(app)
    static_compress.cache = _Recent(lambda key: _built_copy(app, key))
    static_compress.cache_key = lambda req: f"{req.path}|{g.get('static_etag')}"
    app.after_request(_transfer)


def _transfer(response: Response) -> Response:
    if response.status_code == 206 or "Content-Encoding" in response.headers:
        return response
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        if request.endpoint == "static" and response.mimetype in COMPRESSED_TYPES:
            # send_file streams the file; read into memory (the largest, the modeler, is 2 MB) it is
            # compressed whole with brotli or gzip, once per browser (versioned files are kept a year)
            response.direct_passthrough = False
            response.make_sequence()
            etag = response.get_etag()[0]
            if etag:
                g.static_etag = etag
                return static_compress.after_request(response)
        elif response.mimetype in REVALIDATED_TYPES and response.get_etag()[0] is None and not response.is_streamed:
            response.set_etag(_body_tag(response))
            if response.mimetype == "text/html" and not response.headers.get("Cache-Control"):
                response.cache_control.private = True  # a person's page: not kept by shared caches,
                response.cache_control.no_cache = True  # and asked again (mostly a 304) at each visit
            response.make_conditional(request)
    return compress.after_request(response)


def _built_copy(app: Flask, key: str) -> bytes | None:
    """The brotli copy (quality 11) that frontend/build.sh writes beside a vendored file, for a `br` key:
    a tenth smaller than what is compressed here at request time, where quality 11 would keep the first
    visitor waiting seconds. Used only while it still decompresses to the file as it is now."""
    algorithm, _, rest = key.partition(";")
    url_path = rest.rpartition("|")[0]
    prefix = f"{app.static_url_path}/"
    if algorithm != "br" or not url_path.startswith(prefix) or app.static_folder is None:
        return None
    name = safe_join(app.static_folder, url_path.removeprefix(prefix))
    if name is None:
        return None
    try:
        packed = Path(f"{name}.br").read_bytes()
        return packed if brotli.decompress(packed) == Path(name).read_bytes() else None
    except (OSError, brotli.error):
        return None


def _body_tag(response: Response) -> str:
    body = response.get_data()
    digest = hashlib.sha256()
    signed = g.get("csrf_token")  # the token this render put in its forms (flask-wtf keeps it in g)
    if signed and response.mimetype == "text/html":
        body = body.replace(signed.encode(), b"")
        digest.update(str(session.get("csrf_token", "")).encode())
    digest.update(body)
    return digest.hexdigest()[:32]
