"""Requests run side by side against the app, each on a thread with a client of its own, and a
way to hold one of them at a chosen SQL statement so the other runs in between: the interleaving
a race needs, made every time instead of now and then. The statements still run on the real
database; the hold only delays one."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from sqlalchemy import event

from support.api import Api


class Call(threading.Thread):
    """`Call(app, api, username, "post", path, json=…)`: the request on a thread of its own;
    `.response` once joined."""

    def __init__(self, app, api: Api, username: str, method: str, path: str, **kw):
        super().__init__(daemon=True)
        self.client = Api(app.test_client())
        self.client.tokens[username] = api.token(username)
        self.username, self.method, self.path, self.kw = username, method, path, kw
        self.response = None

    def run(self) -> None:
        user = self.client.as_(self.username)
        self.response = getattr(user, self.method)(self.path, **self.kw)

    def result(self, timeout: float = 60) -> tuple[int, dict]:
        self.join(timeout)
        assert not self.is_alive(), f"{self.method} {self.path} did not finish"
        return self.response.status_code, self.response.get_json()


@contextmanager
def hold(engine, statement_starts: str, thread: threading.Thread | None = None, timeout: float = 1.5):
    """While inside: the first statement that starts with `statement_starts` (run by `thread`, when
    given) waits before it runs until `release` is set, or for `timeout` seconds (long enough to show
    that the other request cannot get past it); `reached` is set when it starts waiting."""
    reached, release = threading.Event(), threading.Event()
    held: list[threading.Thread] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if held or not statement.lstrip().upper().startswith(statement_starts.upper()):
            return
        if thread is not None and threading.current_thread() is not thread:
            return
        held.append(threading.current_thread())
        reached.set()
        release.wait(timeout)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield reached, release
    finally:
        release.set()
        event.remove(engine, "before_cursor_execute", before)


def at_once(n: int, fn) -> list:
    """`fn` called from `n` threads released together; their results, in the order they finished."""
    barrier = threading.Barrier(n)
    results: list = []

    def run():
        barrier.wait()
        results.append(fn())

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
