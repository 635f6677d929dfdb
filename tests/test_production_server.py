"""`rectiflow serve-prod`: the scaled mode's server answers from several gunicorn worker processes
over one database, each with connections of its own."""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, token: str | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
    response = conn.getresponse()
    body = json.loads(response.read() or b"{}")
    conn.close()
    return response.status, body


def test_serve_prod_answers_from_its_workers(app, api, district, database_url, tmp_path):
    settings = app.extensions["rectiflow"].settings
    token = api.token("office1")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RECTIFLOW_DATABASE_URL": database_url,
           "RECTIFLOW_INSTANCE_DIR": str(tmp_path / "served"), "RECTIFLOW_SECRET_KEY": settings.secret_key,
           "RECTIFLOW_AUDIT_KEY": settings.audit_key}
    server = subprocess.Popen([sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())",
                               "serve-prod", "--port", str(port), "--workers", "2", "--threads", "2"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, "/api/v1/health")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "serve-prod did not answer within a minute"
            time.sleep(0.2)
        deadline = time.monotonic() + 30
        while len(psutil.Process(server.pid).children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(psutil.Process(server.pid).children()) == 2, "two worker processes"
        for _ in range(8):  # whichever worker answers reads the same database
            status, body = _get(port, "/api/v1/tasks", token)
            assert status == 200 and "items" in body
        assert _get(port, "/api/v1/tasks")[0] == 401
    finally:
        server.terminate()
        server.wait(timeout=30)

