"""A Python trainer that finds no agent starts one, from the build tree it imported trainscope
from, and prints the dashboard's URL with the agent's access token; the run then appears
there, to that token only. The agent it started is stopped by its pid (it runs in a session
of its own and outlives the trainer on purpose)."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from conftest import AGENT_BIN, PACKAGE_DIR, PYTHON, api_open, new_namespace, remove_namespace_files, split_page_url, status_of


def wait_gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_a_python_trainer_starts_the_agent_and_prints_its_url():
    namespace = new_namespace()
    data_home = Path(tempfile.mkdtemp(prefix="tspy-autostart-"))
    # No TRAINSCOPE_TOKEN either: the agent makes its own, and the trainer's printed URL is
    # the only place it is told.
    env = {k: v for k, v in os.environ.items()
           if k not in ("TRAINSCOPE_AGENT", "TRAINSCOPE_AUTOSTART", "TRAINSCOPE_TOKEN")}
    env.update(TRAINSCOPE_NAMESPACE=namespace, TRAINSCOPE_PORT="0", XDG_DATA_HOME=str(data_home),
               PYTHONPATH=str(PACKAGE_DIR))
    script = textwrap.dedent("""
        import time, trainscope
        with trainscope.init("autostarted") as run:
            for step in range(50):
                run.metric("train/loss").log(step, 1.0 / (step + 1))
                time.sleep(0.05)   # long enough for the agent to come up and say where it is
            print(run.session_id, flush=True)
    """)
    agent_pid = None
    try:
        done = subprocess.run([PYTHON, "-c", script], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        started = re.search(r"started agent pid (\d+)", done.stderr)
        assert started, f"no agent started: {done.stderr}"
        agent_pid = int(started.group(1))
        printed = re.search(r"dashboard at (\S+)\n", done.stderr)
        assert printed, f"no dashboard URL printed: {done.stderr}"
        url = printed.group(1)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[0-9a-f]{48}", url), f"not a URL with a token: {url}"
        base, token = split_page_url(url)
        sid = done.stdout.strip()

        def finished_run() -> dict | None:
            try:
                with api_open(base, f"/api/runs/{sid}", token, timeout=5) as reply:
                    run = json.load(reply)
            except OSError:  # 404 until the agent has the run (a 401 raises AssertionError)
                return None
            return run if run["status"] == "finished" else None

        deadline = time.monotonic() + 30
        while not (run := finished_run()):
            if time.monotonic() > deadline:
                pytest.fail(f"run {sid} never finished at {base}")
            time.sleep(0.1)
        assert run["name"] == "autostarted"
        with api_open(base, "/api/runs", token) as reply:
            assert sid in [r["session_id"] for r in json.load(reply)["runs"]]
        assert status_of(base, "/api/runs", None) == 401, "the agent answered without its token"
        assert status_of(base, "/api/runs", "0" * 48) == 401, "the agent took a wrong token"
        assert (data_home / "trainscope" / "trainscope.db").exists(), "the agent keeps its data in XDG_DATA_HOME"
        asked = subprocess.run([str(AGENT_BIN), "--print-url", f"--namespace={namespace}"], env=env,
                               capture_output=True, text=True, timeout=30)
        assert (asked.returncode, asked.stdout.strip()) == (0, url), f"--print-url: {asked.stderr}"
    finally:
        if agent_pid is not None:
            os.kill(agent_pid, signal.SIGTERM)
            assert wait_gone(agent_pid), "the started agent did not stop"
        remove_namespace_files(namespace)
        shutil.rmtree(data_home, ignore_errors=True)
