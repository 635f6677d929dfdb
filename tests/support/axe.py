"""axe-core, the accessibility checker, for the browser tests: fetched once from the npm registry
with npm itself (`npm pack`) into a cache outside the product (~/.cache/rectiflow-tests, or
$RECTIFLOW_TEST_CACHE), never vendored. Without npm or the registry the tests that need it are
skipped, saying why."""
from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

AXE_VERSION = "4.14.1"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _cache() -> Path:
    root = os.environ.get("RECTIFLOW_TEST_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") \
        / "rectiflow-tests"
    return Path(root) / f"axe-core-{AXE_VERSION}"


def axe_source() -> str:
    target = _cache() / "axe.min.js"
    if not target.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: axe-core cannot be fetched")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as work:
            try:
                subprocess.run([npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", work, "--silent"],
                               check=True, capture_output=True, timeout=120, cwd=work)
            except (subprocess.SubprocessError, OSError) as exc:
                pytest.skip(f"axe-core {AXE_VERSION} could not be fetched from the npm registry: {exc}")
            with tarfile.open(Path(work) / f"axe-core-{AXE_VERSION}.tgz") as packed:
                member = packed.extractfile("package/axe.min.js")
                assert member is not None
                partial = target.with_suffix(".part")
                partial.write_bytes(member.read())
                partial.replace(target)
    return target.read_text(encoding="utf-8")


RUN = """([context, tags]) => axe.run(context || document,
             { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
           .then(r => r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + '\\n    ' +
                 v.nodes.map(n => n.target.join(' ') + '  ' + n.html.slice(0, 200)).join('\\n    ')))"""


def _load(page) -> None:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())


def violations(page, selector: str | None = None) -> list[str]:
    """The page's WCAG 2.0/2.1 A and AA violations as axe reports them, one line each: the rule, its
    impact, and the markup of every node that breaks it. axe runs in the page through the DevTools
    protocol, which the page's Content-Security-Policy does not govern."""
    _load(page)
    return list(page.evaluate(RUN, [selector, TAGS]))


def start(page) -> None:
    """Start axe on the page without waiting for it (`finish` waits): two pages, each in its own
    renderer, are checked at once."""
    _load(page)
    page.evaluate(f"args => {{ window.rfAxe = ({RUN})(args); }}", [None, TAGS])


def finish(page) -> list[str]:
    """What the axe run `start` began found (as `violations` says it)."""
    return list(page.evaluate("() => window.rfAxe"))
