"""How a download is named: one Content-Disposition for every file the service sends.

The name people see is usually Chinese (`问题清单-2026年第二轮巡察.xlsx`, an uploaded `整改报告.pdf`):
RFC 6266 with the name in RFC 5987 form (`filename*=UTF-8''…`, which every current browser uses),
and an ASCII `filename=` for the clients that know only that.
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import quote

_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def disposition(filename: str, fallback: str, inline: bool = False) -> str:
    name = _UNSAFE_IN_NAME.sub("_", filename).strip() or fallback
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", fallback) or "download"
    return f"{'inline' if inline else 'attachment'}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def fallback_name(stem: str, filename: str) -> str:
    """An ASCII name for a file whose own name may not be: `evidence-12.pdf` for `整改报告.pdf`."""
    suffix = PurePosixPath(filename).suffix
    return stem + (suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix) else "")
