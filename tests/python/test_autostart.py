"""A Python trainer that finds no agent starts one, from the build tree it imported trainscope
from, and prints the dashboard's URL; the run then appears there. The agent it started is
stopped by its pid (it runs in a session of its own and outlives the trainer on purpose)."""
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
import urllib.request
from pathlib import Path

import pytest

from conftest import PACKAGE_DIR, PYTHON, new_namespace, remove_namespace_files


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
    env = {k: v for k, v in os.environ.items() if k not in ("TRAINSCOPE_AGENT", "TRAINSCOPE_AUTOSTART")}
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
        url = re.search(r"dashboard at (http://127\.0\.0\.1:\d+)/", done.stderr)
        assert url, f"no dashboard URL printed: {done.stderr}"
        sid = done.stdout.strip()

        def finished_run() -> dict | None:
            try:
                with urllib.request.urlopen(f"{url.group(1)}/api/runs/{sid}", timeout=5) as reply:
                    run = json.load(reply)
            except OSError:
                return None
            return run if run["status"] == "finished" else None

        deadline = time.monotonic() + 30
        while not (run := finished_run()):
            if time.monotonic() > deadline:
                pytest.fail(f"run {sid} never finished at {url.group(1)}")
            time.sleep(0.1)
        assert run["name"] == "autostarted"
        assert (data_home / "trainscope" / "trainscope.db").exists(), "the agent keeps its data in XDG_DATA_HOME"
    finally:
        if agent_pid is not None:
            os.kill(agent_pid, signal.SIGTERM)
            assert wait_gone(agent_pid), "the started agent did not stop"
        remove_namespace_files(namespace)
        shutil.rmtree(data_home, ignore_errors=True)
