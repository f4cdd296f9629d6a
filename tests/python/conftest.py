"""Fixtures for the Python SDK's tests: a real trainscope-agent per test.

The agent runs as a direct child on a free loopback port, with a namespace, data dir and
access token of its own, and is stopped by pid. In-process runs find it through
TRAINSCOPE_NAMESPACE (set here for the test's duration, with autostart off); child trainers
get `agent.env()`. Every REST call goes through `api_open`, which sends the token as
`Authorization: Bearer`; a 401 fails the test at once rather than reading as "not there yet".

    TRAINSCOPE_BUILD_DIR   the build tree (default <repo>/build): bin/trainscope-agent and
                           python/trainscope (the importable package)
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("TRAINSCOPE_BUILD_DIR", REPO / "build")).resolve()
PACKAGE_DIR = BUILD_DIR / "python"
AGENT_BIN = BUILD_DIR / "bin" / "trainscope-agent"
PYTHON = "/usr/bin/python3"  # Debian's torch imports only here (see shared/TOOLCHAIN.md)

if str(PACKAGE_DIR) not in sys.path:
    sys.path.insert(0, str(PACKAGE_DIR))

_counter = 0


def new_namespace() -> str:
    """A namespace no other test or agent uses."""
    global _counter
    _counter += 1
    return f"tspy-{os.getpid()}-{_counter}"


def split_page_url(url: str) -> tuple[str, str | None]:
    """The dashboard URL an agent prints or publishes (`http://HOST:PORT/?token=TOKEN`, or
    `http://HOST:PORT/` without auth) as (`http://HOST:PORT`, the token or None)."""
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme == "http" and parts.netloc and parts.path == "/" and not parts.fragment, \
        f"not a dashboard URL: {url!r}"
    query = urllib.parse.parse_qs(parts.query)
    assert set(query) <= {"token"} and len(query.get("token", [])) <= 1, f"unexpected query in {url!r}"
    return f"http://{parts.netloc}", query.get("token", [None])[0]


def api_request(base_url: str, path: str, token: str | None) -> urllib.request.Request:
    """GET base_url + path with `Authorization: Bearer token` (no header if token is None)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return urllib.request.Request(base_url + path, headers=headers)


def api_open(base_url: str, path: str, token: str | None, timeout: float = 30) -> Any:
    """urlopen of api_request(...). A 401 while a token is sent is a wrong token, not a run
    that is not there yet: it raises AssertionError, which wait_for does not swallow."""
    try:
        return urllib.request.urlopen(api_request(base_url, path, token), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 401 and token is not None:
            raise AssertionError(f"the agent at {base_url} refused the token for {path}: {e.read()!r}") from None
        raise


def status_of(base_url: str, path: str, token: str | None, timeout: float = 30) -> int:
    """The HTTP status of api_request(...), 401 included."""
    try:
        with urllib.request.urlopen(api_request(base_url, path, token), timeout=timeout) as reply:
            return reply.status
    except urllib.error.HTTPError as e:
        return e.code


class Agent:
    """A trainscope-agent child process and a small REST client for it.

    page_url   what the agent printed: http://127.0.0.1:PORT/?token=TOKEN
    base_url   http://127.0.0.1:PORT, for REST paths
    token      the access token (a fresh one per agent, given with --token)
    """

    def __init__(self, namespace: str, data_dir: Path) -> None:
        self.namespace = namespace
        self.data_dir = data_dir
        self.token = secrets.token_hex(24)
        self.log_path = data_dir / "agent.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(AGENT_BIN), "--port=0", f"--namespace={namespace}", f"--data-dir={data_dir}",
             f"--token={self.token}",
             # No system metrics: they would add points to any run that lives a second or
             # two, and these tests compare what the trainer logged with what is stored.
             "--plugin-option=system.enabled=false"],
            stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.process.pid
        self.page_url = self._read_url()
        self.base_url, printed_token = split_page_url(self.page_url)
        assert printed_token == self.token, f"the agent printed {self.page_url}, not its --token"
        self.port = urllib.parse.urlsplit(self.page_url).port

    def _read_url(self) -> str:
        # Its output goes to a file (a pipe nobody drains could fill and stall it).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.process.poll() is None:
            found = re.search(r"listening on (http://\S+)\n", self.log_path.read_text(errors="replace"))
            if found:
                return found.group(1)
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"the agent did not start; its log:\n{self.log_path.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    # --- REST ------------------------------------------------------------------------------

    def open(self, path: str, timeout: float = 30) -> Any:
        """urlopen of a REST path (`/api/...`), with the token."""
        return api_open(self.base_url, path, self.token, timeout)

    def get_json(self, path: str) -> Any:
        with self.open(path) as reply:
            return json.load(reply)

    def status_of(self, path: str) -> int:
        code = status_of(self.base_url, path, self.token)
        assert code != 401, f"the agent refused its own token for {path}"
        return code

    def runs(self) -> list[dict]:
        return self.get_json("/api/runs")["runs"]

    def run(self, session_id: str) -> dict:
        return self.get_json(f"/api/runs/{session_id}")

    def series(self, session_id: str, metric: str, rank: int | None = None) -> list[list]:
        """Every point of a series at full resolution: [[step, t_ms, value, seq], ...]."""
        query = "?max_points=5000000" + (f"&rank={rank}" if rank is not None else "")
        name = urllib.parse.quote(metric, safe="")
        return self.get_json(f"/api/runs/{session_id}/metrics/{name}{query}")["points"]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = predicate()
            except (urllib.error.URLError, KeyError, ConnectionError):
                result = None
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.05)

    def wait_status(self, session_id: str, status: str, timeout: float = 30) -> dict:
        def reached() -> dict | None:
            if self.status_of(f"/api/runs/{session_id}") != 200:
                return None
            run = self.run(session_id)
            return run if run["status"] == status else None

        return self.wait_for(reached, timeout, f"run {session_id} to be {status}")

    def wait_points(self, session_id: str, count: int, timeout: float = 30) -> dict:
        """Waits until the run holds `count` points in all; returns the run."""
        def reached() -> dict | None:
            if self.status_of(f"/api/runs/{session_id}") != 200:
                return None
            run = self.run(session_id)
            return run if run["points"] >= count else None

        return self.wait_for(reached, timeout, f"{count} points in run {session_id}")

    # --- children --------------------------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        """The environment for a child trainer logging to this agent."""
        env = dict(os.environ)
        env.update(TRAINSCOPE_NAMESPACE=self.namespace, TRAINSCOPE_AUTOSTART="0",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_DIR), os.environ.get("PYTHONPATH")])))
        env.update(extra)
        return env


def remove_namespace_files(namespace: str) -> None:
    """Segments left in /dev/shm by a namespace, and its agent's lock file (an agent killed
    hard leaves it) in the places the SDK looks: $XDG_RUNTIME_DIR/trainscope and
    /dev/shm/trainscope-<euid> (the data dir's run/ goes with the test's data dir)."""
    for entry in Path("/dev/shm").glob(f"{namespace}.*"):
        entry.unlink(missing_ok=True)
    places = [Path(f"/dev/shm/trainscope-{os.geteuid()}")]
    if os.environ.get("XDG_RUNTIME_DIR"):
        places.append(Path(os.environ["XDG_RUNTIME_DIR"]) / "trainscope")
    for place in places:
        (place / f"{namespace}.agent").unlink(missing_ok=True)


@pytest.fixture
def agent(monkeypatch: pytest.MonkeyPatch) -> Agent:
    if not AGENT_BIN.exists():
        pytest.fail(f"{AGENT_BIN} is missing: build the project (tools/bootstrap)")
    namespace = new_namespace()
    data_dir = Path(tempfile.mkdtemp(prefix="tspy-", dir=os.environ.get("TRAINSCOPE_TEST_TMPDIR")))
    monkeypatch.setenv("TRAINSCOPE_NAMESPACE", namespace)
    monkeypatch.setenv("TRAINSCOPE_AUTOSTART", "0")
    for name in ("TRAINSCOPE_RUN_ID", "TORCHELASTIC_RUN_ID", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    a = Agent(namespace, data_dir)
    try:
        yield a
    finally:
        a.stop()
        remove_namespace_files(namespace)
        shutil.rmtree(data_dir, ignore_errors=True)
