"""Static files named by their content, so a browser keeps them until they change.

Every `url_for("static", ...)` carries `?v=` and the first characters of the file's SHA-256; a
request with the version the file has now is answered with a year's `immutable` caching, so a page
visited again loads nothing but itself (on a slow district line the modeler bundle alone is 1.9 MB).
A request without the version, or with an older one, is revalidated on every visit as before.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import Flask, request

YEAR = 365 * 24 * 3600


class _Versions:
    """Content hashes by file, recomputed when a file's size or modification time changes."""

    def __init__(self, folder: str):
        self.folder = Path(folder)
        self.known: dict[str, tuple[float, int, str]] = {}

    def of(self, filename: str) -> str | None:
        path = self.folder / filename
        try:
            stat = os.stat(path)
        except OSError:
            return None  # a missing file gets no version; the request answers 404 as before
        known = self.known.get(filename)
        if known is None or known[:2] != (stat.st_mtime, stat.st_size):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            known = self.known[filename] = (stat.st_mtime, stat.st_size, digest)
        return known[2]


def init_app(app: Flask) -> None:
    assert app.static_folder is not None
    versions = _Versions(app.static_folder)

    @app.url_defaults
    def _version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            version = versions.of(values.get("filename", ""))
            if version:
                values["v"] = version

    @app.after_request
    def _cache(response):
        if request.endpoint == "static" and response.status_code == 200:
            asked = request.args.get("v")
            if asked and asked == versions.of(request.view_args.get("filename", "") if request.view_args else ""):
                response.cache_control.public = True
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
        return response
