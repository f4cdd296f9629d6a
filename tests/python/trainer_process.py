"""Python trainers as real child processes, for the tests that need one to die or fork."""
from __future__ import annotations

import subprocess
import textwrap
import time

from conftest import PYTHON, Agent


class Trainer:
    """`/usr/bin/python3 -c code` with the agent's environment; stdout read line by line."""

    def __init__(self, agent: Agent, code: str, **env: str) -> None:
        self.process = subprocess.Popen([PYTHON, "-c", textwrap.dedent(code)], env=agent.env(**env),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.pid = self.process.pid

    def read_line(self, prefix: str, timeout: float = 60) -> str:
        """The rest of the first stdout line that starts with `prefix`."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"the trainer exited before printing {prefix!r}: {self.stderr()}")
            if line.startswith(prefix):
                return line[len(prefix):].strip()
        raise AssertionError(f"no {prefix!r} line within {timeout} s")

    def wait(self, timeout: float = 120) -> int:
        return self.process.wait(timeout=timeout)

    def stderr(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        return self.process.stderr.read() if self.process.stderr else ""

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
