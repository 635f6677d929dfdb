"""What pytest needs before any test runs: how pytest-xdist hands tests out, garbage collection,
node ids; and, in each process that runs tests (a pytest-xdist worker, or the one process without
-n), the fixtures of tests/support/fixtures.py. The process that only hands tests out never imports
the application, so the workers start that much sooner."""
from __future__ import annotations

import gc

import pytest


def pytest_configure(config):
    if getattr(config.option, "dist", "no") == "no" or hasattr(config, "workerinput"):
        config.pluginmanager.import_plugin("support.fixtures")


# Under pytest-xdist (-n), the tests of each group run on one worker: the demo district is seeded,
# and Chromium started, once per run instead of once per worker. The browser tests on the demo
# district go with the other demo tests, which splits the browser tests between two workers.
WORKER_GROUPS = {
    "tests/browser/test_accessibility_everywhere.py": "demo",
    "tests/browser/test_chinese_everywhere.py": "demo",
    "tests/browser/test_topbar.py": "demo",
    "tests/browser/": "browser",
    "tests/test_demo.py": "demo",
    "tests/test_hardening.py": "demo",
    "tests/test_office_instruments.py": "demo",
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """The default distribution (-n without --dist), with WORKER_GROUPS kept together: a group goes to
    one worker as one unit, the biggest first, and every other test to whichever worker is free.
    xdist's --dist loadgroup cannot do this here: it marks a group by renaming the tests' node ids,
    which pytest 9 no longer lets it do."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Groups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((group for prefix, group in WORKER_GROUPS.items() if nodeid.startswith(prefix)), nodeid)

    return Groups(config, log)


def pytest_collection_finish(session):
    """What every test shares (the modules, the application's code) set aside from garbage
    collection, and the collector run less often: with its defaults, a tenth of the suite's
    processor time went to scanning the same long-lived objects again and again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 1000)


def pytest_collection_modifyitems(items):
    """Every API operation's fuzz test (tests/test_api_fuzz.py) its own node id. schemathesis names
    them `test[GET /units]`, but under pytest 9.2 their ids leave the operation out, so all of them
    shared one id, and pytest-xdist, which hands out and reports tests by id, ran one of them."""
    for item in items:
        label = getattr(item, "operation_label", None)
        if label and item.id.params is None:
            item._id = item.id.with_params(label)
