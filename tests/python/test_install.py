"""Installation as a user does it: a venv with the system's site packages, `pip install
--no-build-isolation ./sdk/python` (no registry: setuptools and pybind11 come from Debian),
then `import trainscope` from another directory logs a run the agent lists."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import PYTHON, REPO


def test_pip_install_into_a_venv_and_log_a_run(agent, tmp_path):
    venv = tmp_path / "env"
    subprocess.run([PYTHON, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # not the build tree's copy
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-build-isolation", "--no-index", "--quiet",
         str(REPO / "sdk" / "python")],
        env=env, capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = textwrap.dedent("""
        import trainscope
        print(trainscope.__file__)
        with trainscope.init("installed by pip", config={"via": "venv"}) as run:
            loss = run.metric("train/loss")
            for step in range(100):
                loss.log(step, 1.0 / (step + 1))
            print(run.session_id)
    """)
    done = subprocess.run([str(venv / "bin" / "python"), "-c", script], cwd=elsewhere,
                          env=dict(env, TRAINSCOPE_NAMESPACE=agent.namespace, TRAINSCOPE_AUTOSTART="0"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    module_path, sid = done.stdout.split()
    assert Path(module_path).is_relative_to(venv), f"imported {module_path}, not the installed copy"
    run = agent.wait_status(sid, "finished")
    assert run["name"] == "installed by pip" and run["config"] == {"via": "venv"}
    assert any(r["session_id"] == sid for r in agent.runs())
    assert len(agent.series(sid, "train/loss")) == 100
